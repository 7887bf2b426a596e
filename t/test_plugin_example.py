"""A plug-in from outside the core (issue [9]): t/plugin_example/ is a
folder with a `config` fragment, a registration file and a provider.
`make plugin-example` builds the module with it (NGX_WSMAN_PLUGINS names
the folder; no core file mentions it), and its class NGX_Fruit is served
by the resource engine like any built-in one: Enumerate and Pull across
workers, Get by selectors, WQL and selector filters, an SDDL of its own,
its own directive checked by `nginx -t`."""

import os
import pathlib
import subprocess

import pytest

import conftest
import wsman_helpers as H
from conftest import USERS

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE_SO = pathlib.Path(os.environ.get(
    "WSMAN_EXAMPLE_SO", ROOT / "build-example" / "ngx_wsman_module.so"))

FRUIT = H.CIM_BASE + "NGX_Fruit"
ADMINS = "O:NSG:BAD:P(A;;GA;;;BA)"

FRUITS = [("cherry", "red", 30), ("apple", "green", 5),
          ("banana", "yellow", 12), ("lemon", "yellow", 7),
          ("date", "brown", 0)]

EXAMPLE_HTTP = """
    %(fruits)s
    server {
        listen 127.0.0.1:@PORT@;
        wsman_auth basic;
        wsman_user_file @USERFILE@;
        wsman_allow_unencrypted on;
        location /wsman { wsman; }
        location /admins {
            wsman;
            wsman_resource_sddl %(fruit)s "%(admins)s";
        }
    }
""" % {"fruits": "\n    ".join("wsman_example_fruit %s %s %d;" % f
                                for f in FRUITS),
       "fruit": FRUIT, "admins": ADMINS}


@pytest.fixture(scope="module")
def example_so():
    """The module with the example plug-in, built (or brought up to date)
    by make: a failed build fails the tests."""
    if "WSMAN_EXAMPLE_SO" not in os.environ:
        p = subprocess.run(["make", "-s", "-C", str(ROOT), "plugin-example"],
                           capture_output=True, text=True, timeout=900)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert EXAMPLE_SO.exists(), EXAMPLE_SO
    return str(EXAMPLE_SO)


@pytest.fixture(scope="module")
def make_example(nginx_factory, example_so):
    """nginx_factory, but loading the example build of the module."""
    def make(snippet, **kw):
        saved = conftest.SO
        conftest.SO = example_so
        try:
            return nginx_factory(snippet, **kw)
        finally:
            conftest.SO = saved
    return make


@pytest.fixture(scope="module")
def srv(make_example):
    n = make_example(EXAMPLE_HTTP, workers=2)
    return n, H.Client(n.port, USERS)


def _names(items):
    return [H.props(it)["Name"] for it in items]


@pytest.mark.parametrize("pull_max", [1, 2, 10])
def test_enumerate_and_pull_in_key_order(srv, pull_max):
    n, c = srv
    items, pages = H.enumerate_all(c, FRUIT, pull_max=pull_max)
    assert _names(items) == sorted(f[0] for f in FRUITS)
    if pull_max < len(FRUITS):
        assert len(pages) > 2
    byname = {H.props(it)["Name"]: H.props(it) for it in items}
    for name, color, count in FRUITS:
        assert byname[name]["Color"] == color
        assert byname[name]["Count"] == str(count)


def test_optimized_enumeration(srv):
    n, c = srv
    items, pages = H.enumerate_all(c, FRUIT, optimize=True, max_elements=2,
                                   pull_max=2)
    assert _names(pages[0].items) == ["apple", "banana"]
    assert _names(items) == sorted(f[0] for f in FRUITS)


def test_get_by_selector(srv):
    n, c = srv
    xml, _ = H.get_request(FRUIT, {"Name": "lemon"})
    r = c.post(xml)
    assert r.status == 200, r
    obj = H.body_child(r)
    assert H.local_name(obj) == "NGX_Fruit"
    p = H.props(obj)
    assert (p["Name"], p["Color"], p["Count"]) == ("lemon", "yellow", "7")


def test_get_of_no_such_fruit_faults(srv):
    n, c = srv
    xml, _ = H.get_request(FRUIT, {"Name": "durian"})
    f = H.assert_fault(c.post(xml), status=500,
                       subcode=("a", "DestinationUnreachable"))
    assert "No instance matches" in f.reason, f


def test_wql_filter(srv):
    n, c = srv
    items, _ = H.enumerate_all(
        c, FRUIT, wql="SELECT * FROM NGX_Fruit WHERE Color = 'yellow'")
    assert _names(items) == ["banana", "lemon"]
    items, _ = H.enumerate_all(
        c, FRUIT, wql="SELECT Name FROM NGX_Fruit WHERE Count > 6 "
                      "AND Name LIKE '%e%'")
    assert _names(items) == ["cherry", "lemon"]


def test_wql_through_the_wildcard_uri(srv):
    n, c = srv
    items, _ = H.enumerate_all(c, H.CIM_BASE + "*",
                               wql="SELECT * FROM NGX_Fruit "
                                   "WHERE Name = 'date'")
    assert _names(items) == ["date"]


def test_selector_filter(srv):
    n, c = srv
    items, _ = H.enumerate_all(c, FRUIT, selectors={"Name": "cherry"})
    assert _names(items) == ["cherry"]


def test_class_sddl(srv):
    n, c = srv
    # the class's own SDDL lets administrators only: henry (no group)
    # is denied and logged, alice (BA) gets the instance
    off = n.log_size()
    xml, _ = H.get_request(FRUIT, {"Name": "apple"})
    H.assert_fault(c.post(xml, path="/admins", user="henry"), status=500,
                   subcode=("w", "AccessDenied"))
    line = H.wait_for_line(n.error_log,
                           lambda l: "access denied" in l and "henry" in l,
                           offset=off)
    assert line is not None, n.read_log(off)[-2000:]
    r = c.post(xml, path="/admins", user="alice")
    assert r.status == 200, r
    assert H.props(H.body_child(r))["Color"] == "green"


def test_sddl_prefix_is_known_at_configuration(make_example):
    """nginx -t sees the plug-in's class through the registry: no warning
    for its URI, a warning for a misspelt one."""
    n = make_example(EXAMPLE_HTTP.replace(
        'wsman_resource_sddl %s "' % FRUIT,
        'wsman_resource_sddl %s "%s";\n'
        '            wsman_resource_sddl %ss "' % (FRUIT, ADMINS, FRUIT)),
        start=False)
    p = n.test_config()
    assert p.returncode == 0, p.stderr
    warned = [l for l in p.stderr.splitlines()
              if "no resource is served under this URI" in l]
    assert len(warned) == 1 and "NGX_Fruits" in warned[0], p.stderr


@pytest.mark.parametrize("line,err", [
    ("wsman_example_fruit apple red 1; wsman_example_fruit apple red 2;",
     "is duplicate"),
    ("wsman_example_fruit apple red many;", "needs a name"),
])
def test_directive_errors(make_example, line, err):
    n = make_example("%s\n    server { listen 127.0.0.1:@PORT@;\n"
                     "        location /wsman { wsman; } }" % line,
                     start=False)
    p = n.test_config()
    assert p.returncode != 0
    assert "wsman_example_fruit" in p.stderr and err in p.stderr, p.stderr


def test_the_plain_build_does_not_know_the_example(nginx_factory):
    """Without the folder in NGX_WSMAN_PLUGINS, nothing of it is built."""
    n = nginx_factory("wsman_example_fruit apple red 1;\n"
                      "    server { listen 127.0.0.1:@PORT@;\n"
                      "        location /wsman { wsman; } }", start=False)
    p = n.test_config()
    assert p.returncode != 0
    assert 'unknown directive "wsman_example_fruit"' in p.stderr, p.stderr
