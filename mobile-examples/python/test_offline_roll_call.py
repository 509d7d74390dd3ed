"""The binding glue from Python: async functions, records, enums, errors with fields and the
offline -> sync story against a real relay (the logic is tested in Rust)."""

import asyncio
import tempfile

import pytest

import nabo_bindings as nabo


async def phone(relay, key):
    return await nabo.NaboClient.open(tempfile.mkdtemp(prefix="phone-"), relay.url, bytes([key]) * 32)


def test_a_roll_call_taken_offline_reaches_a_second_client(relay):
    async def story():
        maja = await phone(relay, 1)
        me = await maja.enrol(relay.enrolment_code("u-volunteer1"), "Python-telefon")
        assert me.role == "volunteer"
        await maja.sync_now()
        (cafe,) = await maja.my_activities()
        assert cafe.attendance_mode == nabo.AttendanceMode.PSEUDONYMOUS

        relay.stop()
        session = await maja.add_session(cafe.id, maja.today(), "15:00", "17:00", None)
        call = await maja.roll_call(session.id)
        for entry in call.entries[:3]:
            await maja.mark(session.id, entry.participant_id, nabo.Mark.PRESENT)
        await maja.mark(session.id, call.entries[3].participant_id, nabo.Mark.EXCUSED)
        await maja.add_child(session.id, "Zainab", "7-9")
        with pytest.raises(nabo.NaboError.Offline):
            await maja.sync_now()
        assert (await maja.sync_status()).pending_changes > 0

        relay.start()
        await maja.sync_now()
        assert (await maja.sync_status()).pending_changes == 0

        office = await phone(relay, 2)
        await office.login("central", relay.password)
        await office.sync_now()
        seen = await office.roll_call(session.id)
        assert seen.present == 4
        mine = await maja.roll_call(session.id)
        assert {(e.participant_id, e.mark) for e in seen.entries} == {(e.participant_id, e.mark) for e in mine.entries}

    asyncio.run(story())


def test_refusals_carry_the_field_and_reason(relay):
    async def story():
        ali = await phone(relay, 3)
        with pytest.raises(nabo.NaboError.Unauthorized):
            await ali.login("outreach1", "forkert")
        await ali.login("outreach1", relay.password)
        await ali.sync_now()
        with pytest.raises(nabo.NaboError.Invalid) as e:
            await ali.log_contact(nabo.ContactInput(
                area_id="a-vestparken", location="legeplads", kind="uformelt-moede", count=2,
                age_band="200-300", topics=[], outcomes=[], followup=None))
        assert e.value.field == "age_band"
        log = await ali.my_outreach_log()
        assert log.contacts, "the demo quarter's contacts are in the worker's log"

    asyncio.run(story())
