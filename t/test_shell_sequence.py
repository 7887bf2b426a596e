"""WinRS answers lost on the way (a worker killed, a connection broken)
must not lose or double shell output or input (issue [6]).

Receive: a client that numbers its Receives (rsp:Receive/@SequenceId)
gets the same answer again when it sends the same number again; the next
number gets new output; without a number nothing changes.  Send: the same
message again (same a:MessageID) is taken once.  Every request goes on a
new connection to 4 workers, so the repeat lands on another worker."""

import pytest

import wsman_helpers as H

pytestmark = pytest.mark.usefixtures("deadline")

# writes "one", waits for a line on stdin, then writes "two <line>"
TWO_PARTS = "printf 'one\\n'; read x; printf 'two %s\\n' \"$x\"; exit 4"


@pytest.fixture(scope="module")
def srv(shell_nginx):
    return shell_nginx({"/wsman": ""}, workers=4)


@pytest.fixture
def me(srv, local_user):
    return H.ShellClient(srv.port, local_user.name, local_user.password)


def receive(me, sid, cid, seq, op_timeout=5):
    """(Response, ReceiveResult or None for w:TimedOut)."""
    xml, _ = H.receive_request(sid, cid, sequence_id=seq,
                               operation_timeout="PT%dS" % op_timeout)
    resp = me.post(xml, timeout=op_timeout + 15)
    if resp.status != 200:
        f = H.assert_fault(resp)
        assert f.wsman_code == H.CODE_TIMED_OUT, f
        return resp, None
    return resp, H.ReceiveResult(resp, cid)


def same(a, b):
    return (a.stdout, a.stderr, a.state, a.exit_code, a.stdout_end,
            a.stderr_end) == (b.stdout, b.stderr, b.state, b.exit_code,
                              b.stdout_end, b.stderr_end)


def collect(me, sid, cid, seq):
    """Numbered Receives from seq until Done -> (stdout, last seq, last
    result)."""
    out = b""
    while True:
        _, r = receive(me, sid, cid, seq)
        if r is not None:
            out += r.stdout
            if r.done:
                return out, seq, r
        seq += 1


def test_same_sequence_id_gets_the_same_answer(me):
    sid = me.create()
    try:
        cid = me.command(sid, TWO_PARTS)
        _, first = receive(me, sid, cid, 0)
        assert first.stdout == b"one\n" and not first.done, first
        # the answer is "lost": the same number again, twice
        for _ in range(2):
            _, again = receive(me, sid, cid, 0)
            assert same(first, again), (first, again)
        me.send(sid, cid, b"go\n", end=True)
        out, seq, last = collect(me, sid, cid, 1)
        assert out == b"two go\n"
        assert last.exit_code == 4
        # the final answer too, after the command is gone for others
        _, again = receive(me, sid, cid, seq)
        assert same(last, again), (last, again)
        # the next number: the command has finished
        xml, _ = H.receive_request(sid, cid, sequence_id=seq + 1)
        f = H.assert_fault(me.post(xml), status=500,
                           subcode=("w", "InvalidSelectors"))
        assert f.wsman_code == H.CODE_INVALID_SELECTORS
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_next_sequence_id_gets_new_output(me):
    sid = me.create()
    try:
        cid = me.command(sid, TWO_PARTS)
        _, first = receive(me, sid, cid, 7)
        assert first.stdout == b"one\n"
        # nothing new yet: the next number waits and times out, and does
        # not see "one" again
        _, r = receive(me, sid, cid, 8, op_timeout=2)
        assert r is None
        me.send(sid, cid, b"x\n", end=True)
        out, _, last = collect(me, sid, cid, 9)
        assert out == b"two x\n" and last.exit_code == 4
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_without_sequence_id_as_before(me):
    """No number: a second Receive never repeats an answer."""
    sid = me.create()
    try:
        cid = me.command(sid, TWO_PARTS)
        _, first = receive(me, sid, cid, None)
        assert first.stdout == b"one\n"
        _, r = receive(me, sid, cid, None, op_timeout=2)
        assert r is None
        me.send(sid, cid, b"y\n", end=True)
        out, err, code, _ = me.collect(sid, cid)
        assert (out, err, code) == (b"two y\n", b"", 4)
        # after the final answer the command is gone, as before
        xml, _ = H.receive_request(sid, cid)
        H.assert_fault(me.post(xml), status=500,
                       subcode=("w", "InvalidSelectors"))
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_plain_receive_drops_the_kept_answer(me):
    """A client that stops numbering: the kept answer is gone, the same
    number afterwards gets new output, not the old answer."""
    sid = me.create()
    try:
        cid = me.command(sid, TWO_PARTS)
        _, first = receive(me, sid, cid, 0)
        assert first.stdout == b"one\n"
        _, r = receive(me, sid, cid, None, op_timeout=2)
        assert r is None
        _, r = receive(me, sid, cid, 0, op_timeout=2)
        assert r is None
        me.send(sid, cid, b"z\n", end=True)
        out, _, _ = collect(me, sid, cid, 1)
        assert out == b"two z\n"
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_lower_or_bad_sequence_id_refused(me):
    sid = me.create()
    try:
        cid = me.command(sid, TWO_PARTS)
        _, first = receive(me, sid, cid, 5)
        assert first.stdout == b"one\n"
        for bad in (4, "-1", "x", "", "1e3", "18446744073709551616"):
            xml, _ = H.receive_request(sid, cid, sequence_id=bad)
            f = H.assert_fault(me.post(xml), status=500,
                               subcode=("w", "InvalidParameter"))
            assert f.wsman_code
        # the kept answer is still there for 5
        _, again = receive(me, sid, cid, 5)
        assert same(first, again)
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_terminate_drops_the_kept_answer(me):
    """After Signal terminate (the client is done) the final answer is not
    kept any more."""
    sid = me.create()
    try:
        cid = me.command(sid, "echo done")
        out, seq, last = collect(me, sid, cid, 0)
        assert out == b"done\n" and last.exit_code == 0
        me.signal(sid, cid)
        xml, _ = H.receive_request(sid, cid, sequence_id=seq)
        H.assert_fault(me.post(xml), status=500,
                       subcode=("w", "InvalidSelectors"))
    finally:
        me.delete(sid)


def test_large_output_numbered_with_repeats(me):
    """Every answer of a long output asked for twice: the output is
    whole, nothing doubled."""
    sid = me.create()
    try:
        cid = me.command(sid, "seq 1 60000")
        out, seq = b"", 0
        while True:
            _, r = receive(me, sid, cid, seq)
            if r is not None:
                _, r2 = receive(me, sid, cid, seq)
                assert r2 is not None and same(r, r2)
                out += r.stdout
                if r.done:
                    break
            seq += 1
        want = "".join("%d\n" % i for i in range(1, 60001)).encode()
        assert out == want
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_resent_send_is_taken_once(me):
    """The same Send message (same a:MessageID) twice writes its input
    once; a new message with the same bytes is new input."""
    sid = me.create()
    try:
        cid = me.command(sid, "cat")
        xml, _ = H.send_request(sid, cid, b"once\n")
        for _ in range(3):
            r = me.post(xml)
            assert r.status == 200, r
            assert H.header_text(r, "a", "Action") == \
                H.ACTION_SEND + "Response"
        me.send(sid, cid, b"once\n")             # a new MessageID
        me.send(sid, cid, b"end\n", end=True)
        out, err, code, _ = me.collect(sid, cid)
        assert (out, err, code) == (b"once\nonce\nend\n", b"", 0)
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def _send_with_id(me, sid, cid, data, mid, end=False):
    xml, _ = H.send_request(sid, cid, data, end=end, message_id=mid)
    r = me.post(xml)
    assert r.status == 200, r
    assert H.header_text(r, "a", "Action") == H.ACTION_SEND + "Response"
    return r


def test_same_message_id_other_content_is_new_input(me):
    """winrm-client reuses one a:MessageID for every request: its second
    Send ("blue" after "Alice") is new input, not a resend; so is the
    closing Send that only carries End="true"."""
    sid = me.create()
    try:
        cid = me.command(sid, "read a; read b; printf '%s+%s\\n' \"$a\" "
                              "\"$b\"; cat")
        mid = H.new_message_id()
        _send_with_id(me, sid, cid, b"Alice\n", mid)
        _send_with_id(me, sid, cid, b"blue\n", mid)
        _send_with_id(me, sid, cid, b"", mid, end=True)
        out, err, code, _ = me.collect(sid, cid, deadline=15)
        assert (out, err, code) == (b"Alice+blue\n", b"", 0)
        me.signal(sid, cid)
    finally:
        me.delete(sid)


def test_resend_needs_the_whole_content_to_match(me):
    """Same MessageID and same bytes but End differs: new input.  Same
    MessageID, bytes and End: a resend, taken once."""
    sid = me.create()
    try:
        cid = me.command(sid, "cat")
        mid = H.new_message_id()
        _send_with_id(me, sid, cid, b"x\n", mid)
        _send_with_id(me, sid, cid, b"x\n", mid)            # resend
        _send_with_id(me, sid, cid, b"y\n", mid)            # new
        _send_with_id(me, sid, cid, b"y\n", mid, end=True)  # End differs
        _send_with_id(me, sid, cid, b"y\n", mid, end=True)  # resend
        out, err, code, _ = me.collect(sid, cid, deadline=15)
        assert (out, err, code) == (b"x\ny\ny\n", b"", 0)
        me.signal(sid, cid)
    finally:
        me.delete(sid)
