"""The simulator's register: a synthetic population, generated from a fixed seed, never real people.

Every ID number is made by :func:`idp.realname.idnumber.generate_id_number` (valid region, birth
date and check character, invented order code). The shipped file ``data/register.json`` is exactly
``generate_register()``; ``national-source-sim generate`` writes it again.

A few fixed demo people come first, so that demos and documentation can name them.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from idp.realname.idnumber import InvalidIdNumber, generate_id_number, validate_resident_id

DEFAULT_REGISTER = Path(__file__).parent / "data" / "register.json"
DEFAULT_SEED = "national-source-sim/v1"
DEFAULT_COUNT = 200
FORMAT = 1
#: The date the synthetic documents' validity periods are drawn around, fixed for determinism.
AS_OF = date(2025, 1, 1)


@dataclass(frozen=True)
class Person:
    name: str
    gender: str
    #: GB/T 3304 code.
    ethnicity: str
    birth_date: str
    id_number: str
    valid_from: str
    #: ``None``: valid long-term (长期), as for people issued a card at 46 or older.
    valid_to: str | None
    demo: bool = False


def _person(
    name: str, gender: str, ethnicity: str, born: date, region: str, seq: int, issued: date
) -> Person:
    age_at_issue = issued.year - born.year - ((issued.month, issued.day) < (born.month, born.day))
    years = 5 if age_at_issue < 16 else 10 if age_at_issue < 26 else 20 if age_at_issue < 46 else None
    valid_to = None
    if years is not None:
        try:
            valid_to = issued.replace(year=issued.year + years).isoformat()
        except ValueError:  # 29 February
            valid_to = issued.replace(year=issued.year + years, day=28).isoformat()
    return Person(
        name=name,
        gender=gender,
        ethnicity=ethnicity,
        birth_date=born.isoformat(),
        id_number=generate_id_number(region, born, seq),
        valid_from=issued.isoformat(),
        valid_to=valid_to,
    )


#: Fixed people for demos: they verify as ``match`` with exactly these names and birth dates.
DEMO_PEOPLE: tuple[Person, ...] = tuple(
    Person(**{**asdict(p), "demo": True})
    for p in (
        _person("张伟", "male", "01", date(1985, 6, 15), "110108", 135, date(2016, 11, 11)),
        _person("李娜", "female", "01", date(1990, 3, 8), "310104", 206, date(2018, 5, 20)),
        _person("王芳", "female", "20", date(1978, 11, 20), "530102", 82, date(2011, 1, 17)),
        _person("欧阳明", "male", "01", date(1962, 9, 1), "440106", 371, date(2012, 4, 2)),
    )
)

# A sample of real county-level division codes (GB/T 2260), one or two per province.
REGIONS = (
    "110101", "110102", "110105", "110108", "120101", "130102", "140105", "150102", "210102", "220102",
    "230102", "310101", "310104", "320102", "330106", "340102", "350102", "360102", "370102", "410102",
    "420102", "430102", "440103", "440106", "450102", "460105", "500103", "510104", "520102", "530102",
    "540102", "610103", "620102", "630102", "640104", "650102",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方")
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文博晨昊天然轩毅峰锋诚坤"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲燕萍红婷雪琳晶倩颖慧莉佳欣怡梦洁璐雯婧瑶蕾月萌丹悦琪薇思雨菲"


def _name(rng: random.Random, gender: str) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
    chars = MALE_CHARS if gender == "male" else FEMALE_CHARS
    return surname + "".join(rng.choice(chars) for _ in range(rng.choice((1, 2, 2))))


def _ethnicity(rng: random.Random) -> str:
    # Roughly nine in ten are Han (01); the rest drawn from the other 55 codes.
    return "01" if rng.random() < 0.9 else f"{rng.randint(2, 56):02d}"


def generate_register(seed: str = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> list[Person]:
    """The demo people followed by ``count`` synthetic ones, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not secrets
    people = list(DEMO_PEOPLE)
    taken = {p.id_number for p in people}
    while len(people) < len(DEMO_PEOPLE) + count:
        gender = rng.choice(("male", "female"))
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, (date(2005, 12, 31) - date(1950, 1, 1)).days))
        seq = rng.randrange(1 if gender == "male" else 0, 1000, 2)
        issued = AS_OF - timedelta(days=rng.randint(0, 3650))
        issued = max(issued, born + timedelta(days=1))
        person = _person(_name(rng, gender), gender, _ethnicity(rng), born, rng.choice(REGIONS), seq, issued)
        if person.id_number not in taken:
            taken.add(person.id_number)
            people.append(person)
    return people


def dump_register(people: Iterable[Person], seed: str = DEFAULT_SEED) -> str:
    """The register file's text: one person per line, so changes read well in a diff."""
    rows = ",\n".join("  " + json.dumps(asdict(p), ensure_ascii=False) for p in people)
    return f'{{\n "format": {FORMAT},\n "seed": {json.dumps(seed)},\n "people": [\n{rows}\n ]\n}}\n'


class RegisterError(Exception):
    """The register file is missing or not a valid register."""


def _normal_name(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()


class Register:
    """People by ID number, answering the source's question."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.people: dict[str, Person] = {}
        for person in people:
            self.people[person.id_number] = person

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTER) -> Register:
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise RegisterError(f"cannot read register {path}: {exc.__class__.__name__}") from exc
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("people"), list)
        ):
            raise RegisterError(f"{path} is not a register of format {FORMAT}")
        people = []
        for index, row in enumerate(data["people"]):
            try:
                person = Person(**row)
                validate_resident_id(person.id_number, date.fromisoformat(person.birth_date))
            except (TypeError, ValueError, InvalidIdNumber) as exc:
                raise RegisterError(f"{path}: entry {index} is invalid ({exc.__class__.__name__})") from exc
            people.append(person)
        return cls(people)

    def __len__(self) -> int:
        return len(self.people)

    def check(self, name: str, id_number: str, birth_date: date) -> str:
        """``match``, ``mismatch`` or ``not_found`` for the three facts given."""
        person = self.people.get(id_number.upper())
        if person is None:
            return "not_found"
        if _normal_name(person.name) == _normal_name(name) and person.birth_date == birth_date.isoformat():
            return "match"
        return "mismatch"
