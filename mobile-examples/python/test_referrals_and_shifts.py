"""Issue 12's phone items from Python: a referral from a contact that carries the known
person and the activity (item 1), and check-in/out restored from the register, a second
check-in refused, and the hours history (item 2), against a real relay."""

import asyncio
import tempfile

import pytest

import nabo_bindings as nabo


async def phone(relay, key, directory=None):
    return await nabo.NaboClient.open(directory or tempfile.mkdtemp(prefix="phone-"), relay.url, bytes([key]) * 32)


def test_a_referral_from_a_contact_carries_the_person_and_the_activity(relay):
    async def story():
        ali = await phone(relay, 31)
        await ali.login("outreach1", relay.password)
        await ali.sync_now()
        area = "a-vestparken"
        omar = await ali.add_known_person(nabo.KnownPersonInput(
            area_id=area, label="Omar", age_band="18-24",
            consent=nabo.ConsentInput(given_on=ali.today(), by_guardian=False, channel="oral",
                                      share_with_partners=True)))
        contact = await ali.log_contact(nabo.ContactInput(
            area_id=area, location="legeplads", kind="uformelt-moede", count=1, age_band="18-24",
            topics=["job"], outcomes=[], followup=None, participant_id=omar))
        # Consent to share: the person comes with the contact.
        shared = await ali.refer(nabo.ReferralInput(
            area_id=area, contact_id=contact, to="jobcenter", kind=nabo.ReferralKind.BISIDDER,
            consent_to_share=True))
        # A recruitment names the activity; without it, refused naming the field.
        with pytest.raises(nabo.NaboError.Invalid) as e:
            await ali.refer(nabo.ReferralInput(
                area_id=area, contact_id=contact, to="boligsocial-aktivitet",
                kind=nabo.ReferralKind.RECRUITMENT, consent_to_share=False))
        assert e.value.field == "to_activity"
        target = next(a for a in await ali.my_activities() if a.area_id == area)
        recruited = await ali.refer(nabo.ReferralInput(
            area_id=area, contact_id=contact, to="boligsocial-aktivitet",
            kind=nabo.ReferralKind.RECRUITMENT, consent_to_share=False, to_activity_id=target.id))
        letter = await ali.refer(nabo.ReferralInput(
            area_id=area, contact_id=None, to="borgerservice", kind=nabo.ReferralKind.LETTER_HELP,
            consent_to_share=False))
        await ali.set_referral_status(recruited, nabo.ReferralStatus.FIRST_MEETING)
        await ali.set_referral_status(recruited, nabo.ReferralStatus.COMPLETED)

        log = {r.id: r for r in (await ali.my_outreach_log()).referrals}
        assert log[shared].participant_id == omar and log[shared].consent_to_share
        assert log[shared].participant_label == "Omar"
        assert log[recruited].to_activity_id == target.id
        assert [c.status for c in log[recruited].history] == [
            nabo.ReferralStatus.SUGGESTED, nabo.ReferralStatus.FIRST_MEETING, nabo.ReferralStatus.COMPLETED]
        assert log[letter].kind == nabo.ReferralKind.LETTER_HELP

    asyncio.run(story())


def test_a_second_check_in_is_refused_and_the_hours_are_kept(relay):
    async def story():
        directory = tempfile.mkdtemp(prefix="maja-")
        maja = await phone(relay, 32, directory)
        await maja.enrol(relay.enrolment_code("u-volunteer1"), "Python-telefon")
        await maja.sync_now()
        (cafe,) = await maja.my_activities()
        session = await maja.add_session(cafe.id, maja.today(), "15:00", "17:00", "Ekstra aften")
        await maja.check_in(session.id)
        # The app is opened again: the register says she is checked in.
        maja = await phone(relay, 32, directory)
        shift = (await maja.roll_call(session.id)).my_shift
        assert shift.state == nabo.ShiftState.CHECKED_IN
        with pytest.raises(nabo.NaboError.Invalid) as e:
            await maja.check_in(session.id)
        assert (e.value.field, e.value.reason) == ("check_in", "already-exists")
        assert (await maja.roll_call(session.id)).my_shift.check_in_ms == shift.check_in_ms
        await maja.check_out(session.id)
        with pytest.raises(nabo.NaboError.Invalid) as e:
            await maja.check_in(session.id)
        assert e.value.field == "check_out"
        await maja.resume_shift(session.id)
        await maja.check_out(session.id)
        hours = await maja.my_hours()
        mine = [s for s in hours.shifts if s.session.id == session.id]
        assert len(mine) == 1 and mine[0].shift.state == nabo.ShiftState.DONE
        assert mine[0].shift.check_in_ms == shift.check_in_ms
        assert hours.months[0].month == maja.today()[:7]
        assert hours.total_minutes == sum(m.minutes for m in hours.months)

    asyncio.run(story())


def test_a_volunteer_signs_up_and_cancels_with_a_reason(relay):
    async def story():
        import datetime
        maja = await phone(relay, 33)
        await maja.enrol(relay.enrolment_code("u-volunteer1"), "Python-telefon")
        await maja.sync_now()
        (cafe,) = await maja.my_activities()
        tomorrow = (datetime.date.fromisoformat(maja.today()) + datetime.timedelta(days=1)).isoformat()
        trip = await maja.add_session(cafe.id, tomorrow, "10:00", "15:00", "Udflugt")

        def mine(sessions):
            return next(s for s in sessions if s.session.id == trip.id)

        before = mine(await maja.upcoming_sessions(7))
        await maja.sign_up(trip.id)
        after = mine(await maja.upcoming_sessions(7))
        assert after.my_shift.signed_up and after.signed_up == before.signed_up + 1
        with pytest.raises(nabo.NaboError.Invalid) as e:
            await maja.cancel_sign_up(trip.id, "keine-lust")
        assert e.value.field == "reason"
        await maja.cancel_sign_up(trip.id, "transport")
        off = mine(await maja.upcoming_sessions(7))
        assert off.my_shift.cancelled and off.my_shift.cancel_reason == "transport"
        assert {r.code for r in maja.cancel_reasons()} >= {"sygdom", "transport", "andet"}

    asyncio.run(story())
