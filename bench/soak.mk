# Soak and chaos run (bench/soak.py, issue [6]), included by the Makefile:
#
#   make soak                 10 minutes of mixed load while nginx reloads
#                             every 30 s and a worker is SIGKILLed every 60 s
#   make soak SOAK_TIME=60    the short variant CI runs (chaos scaled down)
#
# Fails on lost or doubled shell output, requests left without an answer,
# crashes, zombies or escaped processes, growing descriptors or RSS.  The
# report (numbers) is printed and written to build/soak-report.md.

SOAK_TIME ?= 600

.PHONY: soak

soak: deps-test $(MODULE)
	SOAK_TIME=$(SOAK_TIME) SOAK_REPORT=$(BUILD)/soak-report.md \
	WSMAN_SO=$(MODULE) $(PYTHON) bench/soak.py
