"""Demo catalogue for ``idp demo seed``: the training system's matter, other departments' matters, notices.

Idempotent like the rest of the seed: a client or notice that exists already (same client id, same
kind and title) is left as it is. The other matters are registered as first-party clients of
systems that are not part of the demo: nothing answers at :data:`OTHER_SYSTEMS_URL`; they show
how the catalogue lists several host departments.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from idp.catalogue.models import Notice, NoticeKind
from idp.catalogue.notices import NoticeService
from idp.config import Settings
from idp.db import Database
from idp.oidc.clients import ClientService, ClientSpec

OTHER_SYSTEMS_URL = "http://127.0.0.1:8003"
TRAINING_CODE = "11100000000013127Y4000117056001"
TRAINING_ENTRIES = (("项目管理", "/projects"), ("对接洽谈", "/matchmaking"), ("学员考试", "/exams"))
TRAINING_TABS = {
    "conditions": (
        "1. 出国(境)培训归口管理部门用户:由部门向科技部引进国外智力管理司提出申请,经同意后将系统使用人的"
        "姓名、所在部门、身份证号等信息函告引智司;引智司备案后,使用人在政务服务平台注册账号并通过实名认证。\n"
        "2. 组团单位用户:由组团单位向其归口管理部门提出申请,归口管理部门添加组团单位账号;使用人在政务服务"
        "平台注册账号并通过实名认证。\n"
        "3. 原系统现有用户使用原有账号及密码登录,无需重新注册。"
    ),
    "process": (
        "1. 打开科学技术部政务服务平台,在“热点服务”栏点击“更多”。\n"
        "2. 找到“因公出国(境)培训”,点击“项目管理”、“对接洽谈”或“学员考试”入口。\n"
        "3. 在弹出的登录框中选择“自然人登录”,输入登录名、密码和验证码。\n"
        "4. 尚未实名认证的用户,在“在线办事 · 我的信息”中填写个人信息并保存,完成实名认证后再进入系统。"
    ),
    "description": (
        "因公出国(境)培训项目管理系统已集成至科学技术部政务服务平台,统一身份认证:一地注册、各地互认;"
        "一次认证、全网通办。原地址 otm.safea.gov.cn 的访问将转到本平台。\n"
        "业务咨询电话:010-58884232。"
    ),
    "documents": "《登录及实名认证操作说明》\n《因公出国(境)培训项目管理系统用户手册》",
}

#: (client id, system name, path on the other systems' demo host, catalogue document without entries).
OTHER_MATTERS: tuple[tuple[str, str, str, dict[str, object]], ...] = (
    (
        "foreign-experts",
        "外国专家项目管理信息系统",
        "/experts",
        {
            "matter": "外国专家项目管理信息系统",
            "department": "外国专家服务司",
            "code": "11100000000013127Y4000117056002",
            "hot": True,
            "order": 20,
            "tabs": {
                "conditions": "申报单位须为在中国境内依法登记注册的法人单位,并已在政务服务平台完成法人注册。",
                "process": (
                    "1. 单位管理员登录平台并申请本事项办理权限。\n"
                    "2. 授权事项办理员填报项目。\n"
                    "3. 提交后查看办理进度。"
                ),
                "description": "外国专家项目的申报、评审与管理。",
            },
        },
    ),
    (
        "crowd-plan",
        "众筹科技“十四五”",
        "/crowd-plan",
        {
            "matter": "众筹科技“十四五”",
            "department": "战略规划司",
            "code": "11100000000013127Y4000117056003",
            "hot": True,
            "order": 30,
            "tabs": {"description": "面向社会公众征集科技发展“十四五”规划的意见和建议。"},
        },
    ),
    (
        "crowd-2035",
        "众筹科技2035",
        "/crowd-2035",
        {
            "matter": "众筹科技2035",
            "department": "战略规划司",
            "code": "11100000000013127Y4000117056004",
            "order": 40,
            "tabs": {"description": "面向社会公众征集面向2035年的科技发展意见和建议。"},
        },
    ),
    (
        "reform-advice",
        "众筹加强科技管理及改革工作意见和建议",
        "/reform-advice",
        {
            "matter": "众筹加强科技管理及改革工作意见和建议",
            "department": "办公厅",
            "code": "11100000000013127Y4000117056005",
            "order": 50,
        },
    ),
    (
        "budget-centre",
        "国家科技经费预算申报管理中心",
        "/budget",
        {
            "matter": "国家科技经费预算申报管理中心",
            "department": "资源配置与管理司",
            "code": "11100000000013127Y4000117056006",
            "order": 60,
            "tabs": {
                "conditions": "申报单位须具有独立法人资格。",
                "documents": "《国家科技经费预算编报说明》",
            },
        },
    ),
)

#: (kind, date, title, body) of the demo notices.
DEMO_NOTICES: tuple[tuple[NoticeKind, date, str, str], ...] = (
    (
        NoticeKind.NOTICE,
        date(2026, 11, 20),
        "关于因公出国(境)培训项目管理系统迁移至政务服务平台的通知",
        "因公出国(境)培训项目管理系统已集成至科学技术部政务服务平台。\n"
        "现有用户请使用原有账号及密码登录,无需重新注册;登录后请在“在线办事 · 我的信息”中完成实名认证。\n"
        "业务咨询电话:010-58884232。",
    ),
    (
        NoticeKind.NOTICE,
        date(2026, 11, 10),
        "科学技术部政务服务平台统一身份认证试运行公告",
        "政务服务平台统一身份认证开始试运行:一地注册、各地互认;一次认证、全网通办。\n"
        "试运行期间如遇问题,请拨打业务咨询电话 010-58884238、010-58884236。",
    ),
    (
        NoticeKind.RESULT,
        date(2026, 11, 25),
        "2026年度因公出国(境)培训项目评审结果公示",
        "经评审,2026年度因公出国(境)培训项目评审结果现予公示,公示期为7个工作日。\n"
        "如有异议,请在公示期内向引进国外智力管理司反映。",
    ),
)


def training_catalogue(rp_base_url: str) -> str:
    """The training system's catalogue document, its entries on the relying party at ``rp_base_url``."""
    base = rp_base_url.rstrip("/")
    return json.dumps(
        {
            "matter": "因公出国(境)培训",
            "department": "引进国外智力管理司",
            "code": TRAINING_CODE,
            "entries": [{"name": name, "url": base + path} for name, path in TRAINING_ENTRIES],
            "hot": True,
            "order": 10,
            "tabs": TRAINING_TABS,
        },
        ensure_ascii=False,
    )


def seed_catalogue(db: Database, settings: Settings, other_systems_url: str = OTHER_SYSTEMS_URL) -> list[str]:
    """Register the other matters' clients and the notices that are missing; one line per thing created."""
    created: list[str] = []
    clients = ClientService(db, settings)
    base = other_systems_url.rstrip("/")
    for client_id, name, path, document in OTHER_MATTERS:
        if clients.get(client_id) is not None:
            continue
        catalogue = dict(document, entries=[{"name": "办理入口", "url": f"{base}{path}/"}])
        clients.add(
            ClientSpec(
                client_id=client_id,
                name=name,
                redirect_uris=[f"{base}{path}/callback"],
                first_party=True,
                catalogue=json.dumps(catalogue, ensure_ascii=False),
            )
        )
        created.append(f"matter {document['matter']} ({document['department']}) -> client {client_id}")
    notices = NoticeService(db)
    for kind, day, title, body in DEMO_NOTICES:
        with db.transaction() as session:
            exists = session.scalar(
                select(Notice.id).where(Notice.kind == kind.value, Notice.title == title).limit(1)
            )
        if exists is None:
            notices.add(title, body, day, kind, actor="demo-seed")
            created.append(f"{kind.value} {day.isoformat()} {title}")
    return created
