"""Issue 11 from Python: a child erased by the office leaves every phone, and a phone that was
offline for the whole erasure, then syncs the mark it took meanwhile, cannot bring the name
back: its mark merges and counts, the key goes, and neither store file holds it."""

import asyncio
import pathlib
import sqlite3
import tempfile

import pytest

import nabo_bindings as nabo

NAME = "Ilyas"


def stored_key(store, subject):
    """The key a phone's store keeps for `subject` (its own SQLite file, read-only)."""
    db = sqlite3.connect(f"file:{store}/nabo.sqlite?mode=ro", uri=True)
    try:
        row = db.execute("SELECT key FROM subject_keys WHERE subject = ?", (subject,)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def store_bytes(store):
    """Every byte of a phone's store files, the SQLite WAL included."""
    return b"".join(p.read_bytes() for p in pathlib.Path(store).rglob("*") if p.is_file())


def label(call, participant):
    """The entry's label, or the string 'absent' when the roll call does not list the child."""
    for e in call.entries:
        if e.participant_id == participant:
            return e.label
    return "absent"


def test_an_offline_phone_cannot_bring_an_erased_name_back(relay):
    async def story():
        a_dir, b_dir = tempfile.mkdtemp(prefix="phone-a-"), tempfile.mkdtemp(prefix="phone-b-")
        a = await nabo.NaboClient.open(a_dir, relay.url, bytes([11]) * 32)
        b = await nabo.NaboClient.open(b_dir, relay.url, bytes([12]) * 32)
        await a.enrol(relay.enrolment_code("u-volunteer1"), "Python A")
        await b.enrol(relay.enrolment_code("u-volunteer2"), "Python B")
        await a.sync_now()

        # Phone A adds a child; phone B has the name after its sync.
        session = await a.add_session("act-lektiecafe", a.today(), "15:00", "17:00", "Sletning fra Python")
        child = await a.add_child(session.id, NAME, "7-9")
        await a.sync_now()
        await b.sync_now()
        assert label(await b.roll_call(session.id), child) == NAME
        key_on_b = stored_key(b_dir, child)
        assert key_on_b is not None and key_on_b in store_bytes(b_dir), "the test can fail"

        # B is cut off and marks the child present; meanwhile the office erases the child.
        relay.stop()
        await b.mark(session.id, child, nabo.Mark.PRESENT)
        with pytest.raises(nabo.NaboError.Offline):
            await b.sync_now()
        relay.start()
        erasure = relay.post("/api/v1/erasures", {"subject": child, "reason": "request"}, relay.token())
        assert erasure["subject"] == child

        # A learns of it at its next sync.
        await a.sync_now()
        assert stored_key(a_dir, child) is None
        assert label(await a.roll_call(session.id), child) in (None, "absent")

        # B comes back: its mark merges, the name does not.
        await b.sync_now()
        assert stored_key(b_dir, child) is None
        assert key_on_b not in store_bytes(b_dir), "the key's bytes are gone from B's files"
        call = await b.roll_call(session.id)
        assert label(call, child) in (None, "absent")
        assert all(e.label != NAME for e in call.entries)

        # The office's phone sees the mark counted without a name.
        office = await nabo.NaboClient.open(tempfile.mkdtemp(prefix="office-"), relay.url, bytes([13]) * 32)
        await office.login("central", relay.password)
        await office.sync_now()
        seen = await office.roll_call(session.id)
        assert seen.present == 1
        assert all(e.label != NAME for e in seen.entries)

        # Both phones confirmed the erasure; the log names nobody.
        log = relay.get("/api/v1/erasures", relay.token())
        mine = [x for x in log if x["subject"] == child]
        assert mine and mine[0]["confirmed_devices"] == 2, log
        for store in (a_dir, b_dir):
            assert NAME.encode() not in store_bytes(store)

    asyncio.run(story())
