"""Reminders delivered: the sweep's outbox rows, and `notify send` to local SMTP and HTTP servers on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from casework.persistence.tables import Notification, NotificationAttempt, Stall
from casework.services import Context, ladder, notify
from casework.services.notify_settings import parse
from casework.services.settings import Settings
from tests.helpers import unscoped
from tests.notify_servers import PASSWORD, USER, http_server, refused_url, smtp_server

SCHOOL = "测试小学"


def with_channels(world, monkeypatch, **school) -> Context:
    """The world's context with [notify] settings for its school (and fast retries)."""
    monkeypatch.setenv("CASEWORK_TEST_SMTP_PASSWORD", PASSWORD)
    raw = {"max_attempts": 3, "backoff_seconds": 60, "timeout_seconds": 0.5, "school": {SCHOOL: school}}
    return Context(db=world.ctx.db, clock=world.clock, settings=Settings(notify=parse(raw)))


def email_channel(box) -> dict:
    return {
        "host": "127.0.0.1",
        "port": box.port,
        "username": USER,
        "password_env": "CASEWORK_TEST_SMTP_PASSWORD",
        "sender": "casework@school.test",
        "cafile": box.cafile,
    }


def due_case(world) -> int:
    """A mentored case whose monthly duties fall due on 30 September."""
    case_id = world.case()
    world.drive(case_id, "mentored")
    return case_id


def outbox(world) -> list[Notification]:
    with unscoped(world.ctx.db) as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_the_sweep_writes_one_digest_per_person_and_channel_in_its_transaction(world, monkeypatch) -> None:
    ctx = with_channels(world, monkeypatch, wecom={"webhook": "http://127.0.0.1:9/x"}, child_name="masked")
    due_case(world)
    world.clock.advance(29)  # 30 September: the monthly talk and the parents' feedback are due today

    def dies(*args, **kwargs):
        raise RuntimeError("the sweep's process dies after taking its steps")

    with monkeypatch.context() as m:
        m.setattr(ladder, "_write_digests", dies)
        with pytest.raises(RuntimeError):
            ladder.sweep(ctx)
    with unscoped(world.ctx.db) as session:  # nothing half done: no step without its reminder
        assert session.scalar(select(func.count()).select_from(Stall)) == 0
    assert outbox(world) == []

    first = ladder.sweep(ctx)
    rows = outbox(world)
    # the class teacher (the talk; the family phone, weeks late; no study helper paired yet), the
    # mentor (the feedback), and the
    # leader: the family phone nobody recorded since 6 September and the study helper nobody paired went up to
    # the leadership group
    assert first.digests == len(rows) == 3
    by_person = {r.staff_id: r.items for r in rows}
    assert {i["reason"] for i in by_person[int(world.teacher)]["items"]} == {
        "monthly_talk",
        "family_phone",
        "study_helper",
    }
    assert {i["reason"] for i in by_person[int(world.mentor)]["items"]} == {"parent_feedback"}
    assert {(i["reason"], i["step"]) for i in by_person[int(world.leader)]["items"]} == {
        ("family_phone", "escalated"),
        ("study_helper", "escalated"),
    }
    (teachers,) = [r for r in rows if r.staff_id == int(world.teacher)]
    text = notify.digest(ctx, teachers.id).text
    assert "王**" in text and "王小明" not in text  # surname and a mask, read when it is rendered
    again = ladder.sweep(ctx)
    assert not again.changed and len(outbox(world)) == 3  # nothing twice

    world.clock.advance(9)  # 9 October: overdue on the 6th, escalated on the 9th
    ladder.sweep(ctx)
    (today,) = [r for r in outbox(world) if r.staff_id == int(world.leader) and r.day == date(2026, 10, 9)]
    assert {i["reason"] for i in today.items["items"] if i["step"] == "escalated"} >= {
        "monthly_talk",
        "parent_feedback",
    }


def test_a_digest_never_carries_contact_data_and_names_as_the_school_allows(world, monkeypatch) -> None:
    case_id = due_case(world)
    world.clock.advance(29)  # 30 September: due
    robot = {"webhook": "http://127.0.0.1:9/x"}
    full = with_channels(world, monkeypatch, wecom=robot, child_name="full")
    none = with_channels(world, monkeypatch, wecom=robot, child_name="none")
    ladder.sweep(full)
    for row in outbox(world):
        # the outbox keeps ids and codes, never a name: the name is read from the file when sent
        assert "王小明" not in str(row.items) and "王**" not in str(row.items)
        shown = notify.digest(full, row.id)
        assert "王小明" in shown.text and "王" not in notify.digest(none, row.id).text
        for secret in ("13812345678", "13987654321", "新村12号", "贵州省", "王大山"):
            assert secret not in shown.subject + shown.text + shown.short
        if row.staff_id == int(world.teacher):
            assert f"个案 {case_id}" in shown.text and "monthly_talk" not in shown.text  # labels, not codes
    _, english, _ = notify.render(outbox(world)[0].items, "Chen", "en")
    assert "due" in english and "个案" not in english


@pytest.mark.parametrize(
    ("name", "mode", "shown"),
    [
        ("王小明", "masked", "王**"),
        ("欧阳娜娜", "masked", "欧阳**"),
        ("李四", "masked", "李*"),
        ("王小明", "none", None),
    ],
)
def test_how_much_of_a_name_a_message_carries(name: str, mode: str, shown: str | None) -> None:
    from casework.domain.names import shown_name

    assert shown_name(name, mode) == shown


def test_send_delivers_by_smtp_retries_a_500_and_a_dead_channel_holds_up_no_other(world, monkeypatch, tmp_path) -> None:
    with (
        smtp_server(tmp_path) as box,
        http_server([500, 200]) as robot,
        http_server([200], hang_seconds=3) as hanging,
    ):
        ctx = with_channels(
            world,
            monkeypatch,
            email=email_channel(box),
            wecom={"webhook": robot.url},
            sms={"url": hanging.url, "body": '{"to": "{phone}", "msg": "{text}", "id": "{key}"}'},
        )
        notify.set_address(ctx, world.admin, world.teacher, "teacher@school.test", "13700000000")
        due_case(world)
        world.clock.advance(29)
        ladder.sweep(ctx)
        teacher = [r for r in outbox(world) if r.staff_id == int(world.teacher)]
        assert {r.channel for r in teacher} == {"email", "wecom", "sms"}

        started = time.perf_counter()
        first = notify.send(ctx)
        took = time.perf_counter() - started
        # email went through although the gateway hangs (0.5 s timeout) and the robot answered 500
        channels = {c: (sent, not_sent) for c, sent, not_sent in first.by_channel}
        assert channels["email"] == (1, 0) and len(box.messages) == 1 and box.tls == [True]  # STARTTLS
        assert channels["sms"] == (0, 1)  # the gateway hung past the timeout
        assert channels["wecom"][1] == 1  # the robot's first answer was a 500; the others went through
        assert box.logins == [USER] and box.messages[0]["Message-ID"].startswith("<casework-notification-")
        assert box.messages[0]["To"] == "teacher@school.test" and "王**" in box.messages[0].get_content()
        assert first.retrying == 2 and took < 5
        status = {c.channel: c for c in notify.status(ctx).channels}
        assert status["email"].sent >= 1 and status["wecom"].pending >= 1 and status["sms"].pending >= 1
        errors = {f.channel: f.last_error for f in notify.status(ctx).failed}
        assert errors["wecom"] == "HTTP 500" and "timeout" in errors["sms"].lower()

        assert notify.send(ctx).sent == 0  # nothing is due again before its backoff
        world.clock.advance(1 / 24)  # 60 s backoff passed
        second = notify.send(ctx)
        assert second.sent >= 1  # the robot answers 200 now
        assert robot.bodies[-1]["msgtype"] == "text" and "王**" in robot.bodies[-1]["text"]["content"]
    with unscoped(world.ctx.db) as session:
        tries = session.scalars(
            select(NotificationAttempt.ok).join(Notification).where(Notification.channel == "wecom")
        ).all()
    assert False in tries and True in tries  # each attempt recorded


def test_a_run_keeps_its_smtp_connections_from_batch_to_batch(world, monkeypatch, tmp_path) -> None:
    from datetime import timedelta

    from casework.services import access

    monkeypatch.setattr(notify, "BATCH", 3)  # 12 digests: four batches of three, each over three lanes
    with smtp_server(tmp_path) as box:
        ctx = with_channels(world, monkeypatch, email=email_channel(box))
        notify.set_address(ctx, world.admin, world.teacher, "teacher@school.test", None)
        due_case(world)
        world.clock.advance(29)
        ladder.sweep(ctx)
        (today,) = [r for r in outbox(world) if r.staff_id == int(world.teacher)]
        with ctx.db.write() as session:
            access.system(session)
            for k in range(1, 12):  # the teacher's digests of the days before, not yet sent
                session.add(
                    Notification(
                        school_id=today.school_id,
                        staff_id=today.staff_id,
                        day=today.day - timedelta(days=k),
                        channel="email",
                        items=today.items,
                        status="pending",
                        attempts=0,
                        next_attempt_at=today.next_attempt_at,
                        created_at=today.created_at,
                    )
                )
        pending = [r for r in outbox(world) if r.channel == "email" and r.status == "pending"]
        report = notify.send(ctx)
    assert report.sent == len(pending) == box.received >= 12
    # one STARTTLS and login per lane and batch in flight (two at most), not per lane and batch (12)
    assert 1 <= len(box.logins) <= 2 * 3


def test_a_message_the_server_took_and_did_not_confirm_in_time_is_not_sent_again_in_the_run(
    world, monkeypatch, tmp_path
) -> None:
    # smtplib reports the missing reply as a closed connection, like a kept connection the server
    # closed while idle (opened again and the message sent then); here the server has the message.
    with smtp_server(tmp_path, slow_first_reply=1.5) as box:
        ctx = with_channels(world, monkeypatch, email=email_channel(box))
        notify.set_address(ctx, world.admin, world.teacher, "teacher@school.test", None)
        due_case(world)
        world.clock.advance(29)
        ladder.sweep(ctx)
        report = notify.send(ctx)
        assert box.received == 1  # once: not handed over a second time on a new connection
    assert (report.sent, report.retrying) == (0, 1)
    (digest,) = [r for r in outbox(world) if r.channel == "email"]
    assert digest.status == "pending" and digest.attempts == 1 and "SMTP" in (digest.last_error or "")


def test_a_refused_channel_gives_up_after_the_last_attempt(world, monkeypatch) -> None:
    ctx = with_channels(world, monkeypatch, wecom={"webhook": refused_url()})
    due_case(world)
    world.clock.advance(29)
    ladder.sweep(ctx)
    pending = len(outbox(world))
    first = notify.send(ctx)
    # the first digest found the channel down: the others wait for the next run, untried
    assert (first.retrying, first.deferred) == (1, pending - 1)
    for _ in range(3 * pending):  # each run tries one digest while the channel stays down
        world.clock.advance(1)  # past any backoff
        notify.send(ctx)
    assert all(r.status == "failed" and r.attempts == 3 for r in outbox(world))  # max_attempts
    with unscoped(world.ctx.db) as session:
        assert session.scalar(select(func.count()).select_from(NotificationAttempt)) == 3 * pending
    (failed,) = {f.last_error for f in notify.status(ctx).failed}
    assert "ConnectionRefused" in failed


def test_steps_after_todays_digest_went_out_wait_for_tomorrows(world, monkeypatch) -> None:
    with http_server([200]) as robot:
        ctx = with_channels(world, monkeypatch, wecom={"webhook": robot.url})
        due_case(world)
        world.clock.advance(29)
        ladder.sweep(ctx)
        notify.send(ctx)
        late = world.case()  # opened today; a refused move twice the same day is a new step
        world.fire(late, "assess")
        from casework.errors import TransitionRefused

        for _ in range(2):
            with pytest.raises(TransitionRefused):
                world.fire(late, "plan")
        ladder.sweep(ctx)
        # the counsellor had no digest today: theirs goes today; the leader's went out this morning
        counsellor = {(r.day, r.status) for r in outbox(world) if r.staff_id == int(world.counsellor)}
        assert counsellor == {(date(2026, 9, 30), "pending")}
        leader = {(r.day, r.status) for r in outbox(world) if r.staff_id == int(world.leader)}
        assert leader == {(date(2026, 9, 30), "sent"), (date(2026, 10, 1), "pending")}  # never two on one day
        assert notify.send(ctx).sent == 1  # the counsellor's; the leader's second waits for tomorrow
        world.clock.advance(1)
        assert notify.send(ctx).sent == 1
        (tomorrows,) = [r for r in outbox(world) if r.day == date(2026, 10, 1)]
        assert [i["reason"] for i in tomorrows.items["items"]] == ["repeated_refusal:plan"]


def test_notify_settings_are_checked() -> None:
    from casework.errors import InvalidInput

    for raw in (
        {"school": {"x": {"wecom": {"webhook": "ftp://x"}}}},
        {"school": {"x": {"email": {"port": 25}}}},
        {"school": {"x": {"sms": {"url": "http://x", "body": "no text"}}}},
        {"school": {"x": {"child_name": "initials"}}},
        {"max_attempts": 0},
        {"colour": "red"},
    ):
        with pytest.raises(InvalidInput):
            parse(raw)


def test_a_kept_connection_found_closed_before_the_message_is_opened_again_and_sends_it_once(
    monkeypatch, tmp_path
) -> None:
    from casework.services.channels import Message, SmtpTransport
    from casework.services.notify_settings import EmailChannel

    monkeypatch.setenv("CASEWORK_TEST_SMTP_PASSWORD", PASSWORD)
    with smtp_server(tmp_path) as box:
        channel = EmailChannel(**email_channel(box))
        transport = SmtpTransport(channel, timeout=5.0)
        message = Message("1", "teacher@school.test", "提醒", "今天到期的事项", "今天到期")
        transport.send(message)
        transport._smtp.sock.shutdown(socket.SHUT_RDWR)  # the connection gone while the transport kept it idle
        transport.send(message)
        transport.close()
        assert box.received == 2 and len(box.logins) == 2
