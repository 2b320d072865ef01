"""Reference lists of the profile: ethnic groups, genders, region and document types, countries."""

from __future__ import annotations

import re

from idp.realname.reference import (
    CONTINENTS,
    COUNTRIES,
    DOCUMENT_TYPES,
    ETHNICITIES,
    GENDERS,
    REGION_TYPES,
    DocumentType,
    Gender,
    RegionType,
    continent,
    countries_in,
    country,
    documents_for,
    ethnicity,
)


def test_56_ethnic_groups_in_official_order_with_codes() -> None:
    assert len(ETHNICITIES) == 56
    assert [e.code for e in ETHNICITIES] == [f"{i:02d}" for i in range(1, 57)]
    assert ETHNICITIES[0].name_zh == "汉族" and ETHNICITIES[0].name_en == "Han"
    assert [e.name_zh for e in ETHNICITIES[:5]] == ["汉族", "蒙古族", "回族", "藏族", "维吾尔族"]
    assert ETHNICITIES[-1].name_zh == "基诺族"
    assert len({e.name_zh for e in ETHNICITIES}) == 56
    assert all(e.name_zh.endswith("族") for e in ETHNICITIES)
    lisu = ethnicity("20")
    assert lisu is not None and lisu.name_zh == "傈僳族"
    assert ethnicity("57") is None


def test_genders() -> None:
    assert GENDERS == (Gender.MALE, Gender.FEMALE)
    assert [(g.code, g.name_zh) for g in GENDERS] == [("1", "男"), ("2", "女")]


def test_region_types_use_the_platform_wording() -> None:
    assert [r.name_zh for r in REGION_TYPES] == ["中华人民共和国大陆地区", "港、澳、台地区", "其他"]


def test_document_types_and_their_regions() -> None:
    assert [d.name_zh for d in DOCUMENT_TYPES] == [
        "居民身份证",
        "港澳居民来往内地通行证",
        "台湾居民来往大陆通行证",
        "港澳台居民居住证",
        "外国人永久居留身份证",
        "护照",
    ]
    assert len({d.value for d in DOCUMENT_TYPES}) == 6
    assert documents_for(RegionType.MAINLAND) == (DocumentType.RESIDENT_ID, DocumentType.PASSPORT)
    assert DocumentType.HMT_RESIDENCE_PERMIT in documents_for(RegionType.HK_MACAO_TAIWAN)
    assert DocumentType.RESIDENT_ID not in documents_for(RegionType.OTHER)
    assert all(d.name_en for d in DOCUMENT_TYPES)


def test_seven_continents() -> None:
    assert [c.name_zh for c in CONTINENTS] == ["亚洲", "欧洲", "非洲", "北美洲", "南美洲", "大洋洲", "南极洲"]
    asia = continent("AS")
    assert asia is not None and asia.name_en == "Asia"
    assert continent("XX") is None


def test_countries_are_complete_unique_and_grouped() -> None:
    codes = [c.code for c in COUNTRIES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert len({c.name_zh for c in COUNTRIES}) == len(COUNTRIES)
    # 193 UN members, 2 observer states, Cook Islands and Niue, and the three regions of China.
    sovereign = [c for c in COUNTRIES if c.part_of is None]
    assert len(sovereign) == 197
    assert {c.code for c in COUNTRIES if c.part_of == "CN"} == {"HK", "MO", "TW"}
    continent_codes = {c.code for c in CONTINENTS}
    assert all(c.continent in continent_codes for c in COUNTRIES)
    sizes = {code: len(countries_in(code)) for code in continent_codes}
    assert sizes == {"AS": 51, "EU": 44, "AF": 54, "NA": 23, "SA": 12, "OC": 16, "AN": 0}


def test_country_lookup() -> None:
    china = country("CN")
    assert china is not None and china.name_zh == "中国" and china.continent == "AS"
    russia = country("RU")
    assert russia is not None and russia.continent == "EU"
    assert country("ZZ") is None
    for code in ("US", "GB", "FR", "DE", "JP", "KR", "BR", "AU", "ZA", "EG", "IN", "VA", "PS", "SS"):
        assert country(code) is not None, code
