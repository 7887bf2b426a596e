"""NGX_Sequence (wsman_sequence_items), the synthetic class of numbered
instances, served by unprivileged (www-data) workers across 4 workers:
every instance exactly once, in order, through Enumerate and Pulls that
land on different workers; an empty class without the directive."""

import pytest

import wsman_helpers as H
from conftest import WORKER_USER

SEQ_URI = H.CIM_BASE + "NGX_Sequence"
ITEMS = 57

SEQ_HTTP = """
    wsman_sequence_items %d;
    server {
        listen 127.0.0.1:@PORT@ reuseport;
        location /wsman { wsman; wsman_auth basic;
                          wsman_user_file @USERFILE@;
                          wsman_allow_unencrypted on; }
    }
""" % ITEMS


@pytest.fixture(scope="module")
def seq(nginx_factory, users):
    n = nginx_factory(SEQ_HTTP, workers=4, worker_user=WORKER_USER)
    return H.Client(n.port, users)


def _indexes(items):
    out = []
    for it in items:
        p = H.props(it)
        assert p["ElementName"] == "item %s" % p["Index"], p
        out.append(int(p["Index"]))
    return out


@pytest.mark.parametrize("pull_max", [1, 7, 100])
def test_every_item_once_in_order(seq, pull_max):
    items, pages = H.enumerate_all(seq, SEQ_URI, pull_max=pull_max)
    assert _indexes(items) == list(range(ITEMS))
    if pull_max < ITEMS:
        assert len(pages) > 1


def test_optimized_first_batch(seq):
    items, pages = H.enumerate_all(seq, SEQ_URI, optimize=True,
                                   max_elements=10, pull_max=20)
    assert _indexes(items) == list(range(ITEMS))
    assert len(pages[0].items) == 10


def test_empty_without_the_directive(nginx_factory, users):
    n = nginx_factory(SEQ_HTTP.replace("wsman_sequence_items %d;" % ITEMS,
                                       ""), worker_user=WORKER_USER)
    items, _ = H.enumerate_all(H.Client(n.port, users), SEQ_URI)
    assert items == []
