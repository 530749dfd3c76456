from core.text import may_hold_unstorable, storable, unstorable_in


def test_nul_and_unpaired_surrogates_are_replaced_wherever_they_are():
    decoded = {"a\x00": ["x\x00y", {"k": "\ud800!"}], "n": 1, "ok": "é 😀", "none": None}
    assert unstorable_in(decoded)
    assert storable(decoded) == {
        "a\ufffd": ["x\ufffdy", {"k": "\ufffd!"}],
        "n": 1,
        "ok": "é 😀",
        "none": None,
    }


def test_text_the_database_can_store_is_left_as_it_is():
    decoded = [2, "id", "DataTransfer", {"data": "tab\t, é, 😀, \\u0000 as text"}]
    assert not unstorable_in(decoded)
    assert storable(decoded) == decoded


def test_the_quick_test_passes_every_frame_that_may_hold_them_on():
    assert may_hold_unstorable('[2, "a", "X", {"d": "\\u0000"}]')
    assert may_hold_unstorable('[2, "a", "X", {"d": "\\uD800"}]')
    assert may_hold_unstorable('[2, "a", "X", {"d": "\\ude00"}]')
    assert may_hold_unstorable("not json \x00")
    assert not may_hold_unstorable('[2, "a", "Heartbeat", {"d": "\\u00e9 \\t"}]')
