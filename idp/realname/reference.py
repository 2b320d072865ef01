"""Reference lists of the natural-person profile: ethnic groups, genders, region and document types,
continents and countries.

Everything here is immutable data (frozen dataclasses and string enums) so forms, validation and
claims share one source. Codes are what gets stored; names are what gets shown.

- Ethnic groups: the 56 groups of GB/T 3304-1991 in its official order, codes ``01``-``56``, with
  the standard romanised names.
- Genders: GB/T 2261.1 codes (``1`` male, ``2`` female).
- Countries: ISO 3166-1 alpha-2 codes of the 193 UN member states, the two observer states (Holy See,
  Palestine) and the Cook Islands and Niue, grouped by continent as in the Chinese foreign ministry's
  lists (Turkey, Cyprus and the South Caucasus under Asia; Central America and the Caribbean under
  North America). Hong Kong, Macao and Taiwan carry their ISO codes as regions of China.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Ethnicity:
    code: str
    name_zh: str
    name_en: str


_ETHNIC_ROWS = (
    "汉族 Han", "蒙古族 Mongol", "回族 Hui", "藏族 Zang", "维吾尔族 Uygur", "苗族 Miao", "彝族 Yi",
    "壮族 Zhuang", "布依族 Buyei", "朝鲜族 Chosen", "满族 Man", "侗族 Dong", "瑶族 Yao", "白族 Bai",
    "土家族 Tujia", "哈尼族 Hani", "哈萨克族 Kazak", "傣族 Dai", "黎族 Li", "傈僳族 Lisu", "佤族 Va",
    "畲族 She", "高山族 Gaoshan", "拉祜族 Lahu", "水族 Sui", "东乡族 Dongxiang", "纳西族 Naxi",
    "景颇族 Jingpo", "柯尔克孜族 Kirgiz", "土族 Tu", "达斡尔族 Daur", "仫佬族 Mulam", "羌族 Qiang",
    "布朗族 Blang", "撒拉族 Salar", "毛南族 Maonan", "仡佬族 Gelao", "锡伯族 Xibe", "阿昌族 Achang",
    "普米族 Pumi", "塔吉克族 Tajik", "怒族 Nu", "乌孜别克族 Uzbek", "俄罗斯族 Russ", "鄂温克族 Ewenki",
    "德昂族 Deang", "保安族 Bonan", "裕固族 Yugur", "京族 Gin", "塔塔尔族 Tatar", "独龙族 Derung",
    "鄂伦春族 Oroqen", "赫哲族 Hezhen", "门巴族 Monba", "珞巴族 Lhoba", "基诺族 Jino",
)  # fmt: skip

#: The 56 ethnic groups, 汉族 first, in the order and with the codes of GB/T 3304.
ETHNICITIES: tuple[Ethnicity, ...] = tuple(
    Ethnicity(f"{i:02d}", *row.split(" ", 1)) for i, row in enumerate(_ETHNIC_ROWS, start=1)
)


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def code(self) -> str:
        """GB/T 2261.1 code."""
        return "1" if self is Gender.MALE else "2"

    @property
    def name_zh(self) -> str:
        return "男" if self is Gender.MALE else "女"


GENDERS: tuple[Gender, ...] = (Gender.MALE, Gender.FEMALE)


class RegionType(StrEnum):
    """The 类型 field of the profile: where the person's identity documents come from."""

    MAINLAND = "mainland"
    HK_MACAO_TAIWAN = "hk_macao_taiwan"
    OTHER = "other"

    @property
    def name_zh(self) -> str:
        return _REGION_NAMES[self][0]

    @property
    def name_en(self) -> str:
        return _REGION_NAMES[self][1]


_REGION_NAMES = {
    RegionType.MAINLAND: ("中华人民共和国大陆地区", "Mainland of the People's Republic of China"),
    RegionType.HK_MACAO_TAIWAN: ("港、澳、台地区", "Hong Kong, Macao and Taiwan"),
    RegionType.OTHER: ("其他", "Other"),
}

REGION_TYPES: tuple[RegionType, ...] = tuple(RegionType)


class DocumentType(StrEnum):
    """Identity documents a person may register with; the value is the stored code."""

    RESIDENT_ID = "resident_id"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_RESIDENT_ID = "foreign_permanent_resident_id"
    PASSPORT = "passport"

    @property
    def name_zh(self) -> str:
        return _DOCUMENT_INFO[self][0]

    @property
    def name_en(self) -> str:
        return _DOCUMENT_INFO[self][1]

    @property
    def region_types(self) -> tuple[RegionType, ...]:
        """Region types whose people hold this document (to filter the form's choices)."""
        return _DOCUMENT_INFO[self][2]


_DOCUMENT_INFO: dict[DocumentType, tuple[str, str, tuple[RegionType, ...]]] = {
    DocumentType.RESIDENT_ID: ("居民身份证", "Resident identity card", (RegionType.MAINLAND,)),
    DocumentType.HK_MACAO_PERMIT: (
        "港澳居民来往内地通行证",
        "Mainland travel permit for Hong Kong and Macao residents",
        (RegionType.HK_MACAO_TAIWAN,),
    ),
    DocumentType.TAIWAN_PERMIT: (
        "台湾居民来往大陆通行证",
        "Mainland travel permit for Taiwan residents",
        (RegionType.HK_MACAO_TAIWAN,),
    ),
    DocumentType.HMT_RESIDENCE_PERMIT: (
        "港澳台居民居住证",
        "Residence permit for Hong Kong, Macao and Taiwan residents",
        (RegionType.HK_MACAO_TAIWAN,),
    ),
    DocumentType.FOREIGN_PERMANENT_RESIDENT_ID: (
        "外国人永久居留身份证",
        "Foreign permanent resident ID card",
        (RegionType.OTHER,),
    ),
    DocumentType.PASSPORT: ("护照", "Passport", (RegionType.MAINLAND, RegionType.OTHER)),
}

DOCUMENT_TYPES: tuple[DocumentType, ...] = tuple(DocumentType)


@dataclass(frozen=True)
class Continent:
    code: str
    name_zh: str
    name_en: str


CONTINENTS: tuple[Continent, ...] = (
    Continent("AS", "亚洲", "Asia"),
    Continent("EU", "欧洲", "Europe"),
    Continent("AF", "非洲", "Africa"),
    Continent("NA", "北美洲", "North America"),
    Continent("SA", "南美洲", "South America"),
    Continent("OC", "大洋洲", "Oceania"),
    Continent("AN", "南极洲", "Antarctica"),
)


@dataclass(frozen=True)
class Country:
    #: ISO 3166-1 alpha-2.
    code: str
    name_zh: str
    name_en: str
    continent: str
    #: Set for a region of another country (Hong Kong, Macao, Taiwan: ``CN``).
    part_of: str | None = None


# One line per country: "CODE|中文名|English name", grouped by continent.
_COUNTRY_ROWS: dict[str, str] = {
    "AS": """
CN|中国|China
HK|中国香港|Hong Kong, China
MO|中国澳门|Macao, China
TW|中国台湾|Taiwan, China
AF|阿富汗|Afghanistan
AM|亚美尼亚|Armenia
AZ|阿塞拜疆|Azerbaijan
BH|巴林|Bahrain
BD|孟加拉国|Bangladesh
BT|不丹|Bhutan
BN|文莱|Brunei
KH|柬埔寨|Cambodia
CY|塞浦路斯|Cyprus
GE|格鲁吉亚|Georgia
IN|印度|India
ID|印度尼西亚|Indonesia
IR|伊朗|Iran
IQ|伊拉克|Iraq
IL|以色列|Israel
JP|日本|Japan
JO|约旦|Jordan
KZ|哈萨克斯坦|Kazakhstan
KW|科威特|Kuwait
KG|吉尔吉斯斯坦|Kyrgyzstan
LA|老挝|Laos
LB|黎巴嫩|Lebanon
MY|马来西亚|Malaysia
MV|马尔代夫|Maldives
MN|蒙古|Mongolia
MM|缅甸|Myanmar
NP|尼泊尔|Nepal
KP|朝鲜|Democratic People's Republic of Korea
OM|阿曼|Oman
PK|巴基斯坦|Pakistan
PS|巴勒斯坦|Palestine
PH|菲律宾|Philippines
QA|卡塔尔|Qatar
SA|沙特阿拉伯|Saudi Arabia
SG|新加坡|Singapore
KR|韩国|Republic of Korea
LK|斯里兰卡|Sri Lanka
SY|叙利亚|Syria
TJ|塔吉克斯坦|Tajikistan
TH|泰国|Thailand
TL|东帝汶|Timor-Leste
TR|土耳其|Türkiye
TM|土库曼斯坦|Turkmenistan
AE|阿拉伯联合酋长国|United Arab Emirates
UZ|乌兹别克斯坦|Uzbekistan
VN|越南|Viet Nam
YE|也门|Yemen
""",
    "EU": """
AL|阿尔巴尼亚|Albania
AD|安道尔|Andorra
AT|奥地利|Austria
BY|白俄罗斯|Belarus
BE|比利时|Belgium
BA|波斯尼亚和黑塞哥维那|Bosnia and Herzegovina
BG|保加利亚|Bulgaria
HR|克罗地亚|Croatia
CZ|捷克|Czechia
DK|丹麦|Denmark
EE|爱沙尼亚|Estonia
FI|芬兰|Finland
FR|法国|France
DE|德国|Germany
GR|希腊|Greece
VA|梵蒂冈|Holy See
HU|匈牙利|Hungary
IS|冰岛|Iceland
IE|爱尔兰|Ireland
IT|意大利|Italy
LV|拉脱维亚|Latvia
LI|列支敦士登|Liechtenstein
LT|立陶宛|Lithuania
LU|卢森堡|Luxembourg
MT|马耳他|Malta
MD|摩尔多瓦|Moldova
MC|摩纳哥|Monaco
ME|黑山|Montenegro
NL|荷兰|Netherlands
MK|北马其顿|North Macedonia
NO|挪威|Norway
PL|波兰|Poland
PT|葡萄牙|Portugal
RO|罗马尼亚|Romania
RU|俄罗斯|Russian Federation
SM|圣马力诺|San Marino
RS|塞尔维亚|Serbia
SK|斯洛伐克|Slovakia
SI|斯洛文尼亚|Slovenia
ES|西班牙|Spain
SE|瑞典|Sweden
CH|瑞士|Switzerland
UA|乌克兰|Ukraine
GB|英国|United Kingdom
""",
    "AF": """
DZ|阿尔及利亚|Algeria
AO|安哥拉|Angola
BJ|贝宁|Benin
BW|博茨瓦纳|Botswana
BF|布基纳法索|Burkina Faso
BI|布隆迪|Burundi
CV|佛得角|Cabo Verde
CM|喀麦隆|Cameroon
CF|中非|Central African Republic
TD|乍得|Chad
KM|科摩罗|Comoros
CG|刚果（布）|Congo
CD|刚果（金）|Democratic Republic of the Congo
CI|科特迪瓦|Côte d'Ivoire
DJ|吉布提|Djibouti
EG|埃及|Egypt
GQ|赤道几内亚|Equatorial Guinea
ER|厄立特里亚|Eritrea
SZ|斯威士兰|Eswatini
ET|埃塞俄比亚|Ethiopia
GA|加蓬|Gabon
GM|冈比亚|Gambia
GH|加纳|Ghana
GN|几内亚|Guinea
GW|几内亚比绍|Guinea-Bissau
KE|肯尼亚|Kenya
LS|莱索托|Lesotho
LR|利比里亚|Liberia
LY|利比亚|Libya
MG|马达加斯加|Madagascar
MW|马拉维|Malawi
ML|马里|Mali
MR|毛里塔尼亚|Mauritania
MU|毛里求斯|Mauritius
MA|摩洛哥|Morocco
MZ|莫桑比克|Mozambique
NA|纳米比亚|Namibia
NE|尼日尔|Niger
NG|尼日利亚|Nigeria
RW|卢旺达|Rwanda
ST|圣多美和普林西比|Sao Tome and Principe
SN|塞内加尔|Senegal
SC|塞舌尔|Seychelles
SL|塞拉利昂|Sierra Leone
SO|索马里|Somalia
ZA|南非|South Africa
SS|南苏丹|South Sudan
SD|苏丹|Sudan
TZ|坦桑尼亚|Tanzania
TG|多哥|Togo
TN|突尼斯|Tunisia
UG|乌干达|Uganda
ZM|赞比亚|Zambia
ZW|津巴布韦|Zimbabwe
""",
    "NA": """
AG|安提瓜和巴布达|Antigua and Barbuda
BS|巴哈马|Bahamas
BB|巴巴多斯|Barbados
BZ|伯利兹|Belize
CA|加拿大|Canada
CR|哥斯达黎加|Costa Rica
CU|古巴|Cuba
DM|多米尼克|Dominica
DO|多米尼加|Dominican Republic
SV|萨尔瓦多|El Salvador
GD|格林纳达|Grenada
GT|危地马拉|Guatemala
HT|海地|Haiti
HN|洪都拉斯|Honduras
JM|牙买加|Jamaica
MX|墨西哥|Mexico
NI|尼加拉瓜|Nicaragua
PA|巴拿马|Panama
KN|圣基茨和尼维斯|Saint Kitts and Nevis
LC|圣卢西亚|Saint Lucia
VC|圣文森特和格林纳丁斯|Saint Vincent and the Grenadines
TT|特立尼达和多巴哥|Trinidad and Tobago
US|美国|United States
""",
    "SA": """
AR|阿根廷|Argentina
BO|玻利维亚|Bolivia
BR|巴西|Brazil
CL|智利|Chile
CO|哥伦比亚|Colombia
EC|厄瓜多尔|Ecuador
GY|圭亚那|Guyana
PY|巴拉圭|Paraguay
PE|秘鲁|Peru
SR|苏里南|Suriname
UY|乌拉圭|Uruguay
VE|委内瑞拉|Venezuela
""",
    "OC": """
AU|澳大利亚|Australia
CK|库克群岛|Cook Islands
FJ|斐济|Fiji
KI|基里巴斯|Kiribati
MH|马绍尔群岛|Marshall Islands
FM|密克罗尼西亚联邦|Micronesia
NR|瑙鲁|Nauru
NZ|新西兰|New Zealand
NU|纽埃|Niue
PW|帕劳|Palau
PG|巴布亚新几内亚|Papua New Guinea
WS|萨摩亚|Samoa
SB|所罗门群岛|Solomon Islands
TO|汤加|Tonga
TV|图瓦卢|Tuvalu
VU|瓦努阿图|Vanuatu
""",
}

_REGIONS_OF_CHINA = ("HK", "MO", "TW")


def _build_countries() -> tuple[Country, ...]:
    rows: list[Country] = []
    for continent, block in _COUNTRY_ROWS.items():
        for line in block.strip().splitlines():
            code, name_zh, name_en = line.split("|")
            part_of = "CN" if code in _REGIONS_OF_CHINA else None
            rows.append(Country(code, name_zh, name_en, continent, part_of))
    return tuple(rows)


#: Countries (and the three regions of China) by continent, in the order of ``CONTINENTS``.
COUNTRIES: tuple[Country, ...] = _build_countries()

_ETHNICITY_BY_CODE = {e.code: e for e in ETHNICITIES}
_CONTINENT_BY_CODE = {c.code: c for c in CONTINENTS}
_COUNTRY_BY_CODE = {c.code: c for c in COUNTRIES}


def ethnicity(code: str) -> Ethnicity | None:
    return _ETHNICITY_BY_CODE.get(code)


def continent(code: str) -> Continent | None:
    return _CONTINENT_BY_CODE.get(code)


def country(code: str) -> Country | None:
    return _COUNTRY_BY_CODE.get(code)


def countries_in(continent_code: str) -> tuple[Country, ...]:
    """The countries of one continent, for the dependent 所属国家 choice."""
    return tuple(c for c in COUNTRIES if c.continent == continent_code)


def documents_for(region_type: RegionType) -> tuple[DocumentType, ...]:
    """Document types offered to a person of ``region_type``."""
    return tuple(d for d in DOCUMENT_TYPES if region_type in d.region_types)
