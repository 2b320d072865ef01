"""The wording of the messages the platform sends. Chinese first, then English, in every message.

A message goes to a phone or a mailbox, not to a page, so it cannot follow the page's language;
both languages are in it. SMS texts carry the platform's name in 【】 as Chinese SMS rules require.
"""

from __future__ import annotations

from idp.notify.sender import Channel

PLATFORM = "科学技术部政务服务平台"
SERVICE_LINE = "010-58884238"

#: What each purpose of a code is for, as the message names it.
PURPOSES = {
    "register": ("注册账号", "registering an account"),
    "reset": ("重置密码", "resetting your password"),
    "contact": ("更改联系方式", "changing your contact details"),
}


def code_message(purpose: str, code: str, minutes: int, channel: Channel) -> tuple[str, str]:
    """Subject and body of a one-time code message."""
    zh, en = PURPOSES[purpose]
    subject = f"{PLATFORM}验证码 / Verification code"
    lines = [
        f"您正在{zh},验证码为 {code},{minutes} 分钟内有效。请勿将验证码告诉他人;如非本人操作,请忽略本消息。",
        f"Your code for {en} is {code}. It is valid for {minutes} minutes. Never share it; "
        "if you did not ask for it, ignore this message.",
    ]
    if channel == "sms":
        return subject, f"【{PLATFORM}】" + " ".join(lines)
    return subject, "\n\n".join([*lines, PLATFORM])


def contact_changed_message(
    username: str, kind: Channel, new_masked: str, when: str, channel: Channel
) -> tuple[str, str]:
    """Subject and body of the notice to the old contact after a contact change."""
    zh_kind, en_kind = ("电子邮箱", "e-mail address") if kind == "email" else ("手机号码", "mobile number")
    subject = f"{PLATFORM}账号联系方式已更改 / Contact details changed"
    lines = [
        f"您的账号 {username} 的{zh_kind}已于 {when} 更改为 {new_masked}。"
        f"如非本人操作,请立即修改密码并致电 {SERVICE_LINE}。",
        f"The {en_kind} of your account {username} was changed to {new_masked} at {when}. "
        f"If this was not you, change your password now and call {SERVICE_LINE}.",
    ]
    if channel == "sms":
        return subject, f"【{PLATFORM}】" + " ".join(lines)
    return subject, "\n\n".join([*lines, PLATFORM])
