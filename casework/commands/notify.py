"""Commands of the outbox: send the pending digests, show what is pending, sent and failed, set addresses."""

from __future__ import annotations

import click

from casework.commands.common import Whole, actor_option, json_option, state
from casework.commands.output import echo_json, table


@click.group("notify")
def notify_group() -> None:
    """Reminders: the daily digests the sweep writes to the outbox. 提醒通知。"""


@notify_group.command("send")
@click.option(
    "--limit",
    type=Whole(1, 2**63 - 1),
    help="At most this many digests in this run (1 or more). 本次最多发送的摘要份数。",
)
@json_option
def notify_send(limit: int | None, as_json: bool) -> None:
    """Deliver the pending digests (email, WeCom, SMS), retrying with backoff. 发送提醒。"""
    from casework.services import notify

    st = state()
    report = notify.send(st.ctx(), limit)
    if as_json:
        echo_json(report.as_data())
        return
    click.echo(
        st.t(
            "{sent} sent, {retrying} to retry, {failed} given up, {deferred} waiting for their channel",
            sent=report.sent,
            retrying=report.retrying,
            failed=report.failed,
            deferred=report.deferred,
        )
    )


@notify_group.command("status")
@json_option
def notify_status(as_json: bool) -> None:
    """Pending, sent and failed digests per channel; the latest failures and why. 发送状态。"""
    from casework.services import notify

    st = state()
    report = notify.status(st.ctx())
    if as_json:
        echo_json(report.as_data())
        return
    table(
        [st.t("channel"), st.t("pending"), st.t("sent"), st.t("failed"), st.t("oldest pending")],
        [(st.t(_channel(c.channel)), c.pending, c.sent, c.failed, c.oldest_pending or "") for c in report.channels],
        title=st.t("notifications"),
    )
    if report.failed:
        table(
            [st.t("digest"), st.t("person"), st.t("channel"), st.t("day"), st.t("attempts"), st.t("last error")],
            [(f.id, f.person, st.t(_channel(f.channel)), f.day, f.attempts, f.last_error) for f in report.failed],
            title=st.t("failed or retrying"),
        )
    for school in report.unset_schools:
        click.echo(st.t("{school}: no channel set in [notify]; its digests are not written", school=school))


@notify_group.command("address")
@click.argument("staff", metavar="STAFF")
@click.option("--email", help="Email address for the digests ('' removes it). 接收摘要的电子邮箱（填空则删除）。")
@click.option("--phone", help="Mobile number for SMS ('' removes it). 接收短信的手机号（填空则删除）。")
@click.option("--school", metavar="NAME")
@actor_option
def notify_address(staff: str, email: str | None, phone: str | None, school: str | None, actor: str | None) -> None:
    """Where a staff member receives the digests. 设置接收地址。"""
    from casework.services import notify

    st = state()
    notify.set_address(st.ctx(), actor, staff, email, phone, school)
    click.echo(st.t("addresses of {staff} set", staff=staff))


def _channel(code: str) -> str:
    from casework.domain.vocab import CHANNEL_LABELS

    return CHANNEL_LABELS.get(code, code)


COMMANDS = [notify_group]
