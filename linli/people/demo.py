"""The demo street's register (人、房、户): about 70,000 households and 200,000 residents in
the full street's buildings, with key-population tags, talents and three months of visits.

A demo build step (linli/demo/services.py) writes it all with bulk inserts, inside the
build's transaction. Every choice comes from one random.Random derived from the build's,
so a seed gives the same people on the same day; ages, visits and due dates count back
from the day of the build so that the overdue list always looks current. Faker is slow
(~20 µs a call), so its names are drawn once into pools that people pick from.

ID numbers and phones go through linli.core.crypto with the register's contexts, exactly
as services.id_number_fields / phone_fields store them; the numbers are valid by
construction (id_number_make), so the per-row stdnum and phonenumbers checks are skipped.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import shapely
from django.utils import timezone
from shapely.geometry import shape
from tqdm import tqdm

from linli.accounts.backends import PHONE_CONTEXT as USER_PHONE_CONTEXT
from linli.areas.models import Area
from linli.core.crypto import blind_index, decrypt, encrypt, mask_id_number, mask_phone
from linli.demo.services import URBAN_LAND_USE, DemoContext, register_demo_step
from linli.people.models import (
    ID_NUMBER_CONTEXT,
    PHONE_CONTEXT,
    Household,
    Resident,
    ResidentTag,
    Tag,
    Talent,
    Visit,
)
from linli.people.validation import id_number_make

HOUSEHOLDS = {"full": 70_000, "small": 300}
BATCH = 2_000
# Unit grids are divided for 300–500 households in town (standards §1.2); the oil field,
# farmland and wetland grids are far larger and far emptier.
URBAN_WEIGHT, RURAL_WEIGHT = 1.0, 0.28
MIGRANT_SHARE = {True: 0.25, False: 0.12}  # by urban grid
# Households of 1…5 people, for locals and for migrants (who come alone or as couples more).
SIZE_WEIGHTS = {False: [12, 28, 28, 17, 15], True: [24, 32, 30, 10, 4]}
VISIT_WINDOW_DAYS = 90
OVERDUE_SHARE = 0.08
LOCAL_AREA = "370502"  # 东营区
# Birth places of people registered here: mostly 东营区, some from the city's counties.
LOCAL_BIRTH_AREAS = {"370502": 88, "370503": 4, "370521": 3, "370522": 3, "370523": 2}
# Migrants (流动人口): the rest of Dongying, then Shandong's other cities, a few from Hebei
# and Henan. Each code is one stdnum knows (checked by the tests).
MIGRANT_BIRTH_AREAS = {
    "370521": 14,  # 垦利
    "370522": 12,  # 利津
    "370523": 12,  # 广饶
    "371602": 10,  # 滨州 滨城区
    "371302": 7,  # 临沂 兰山区
    "370102": 5,  # 济南 历下区
    "370303": 6,  # 淄博 张店区
    "370781": 6,  # 潍坊 青州市
    "371402": 5,  # 德州 德城区
    "371502": 5,  # 聊城 东昌府区
    "370811": 4,  # 济宁 任城区
    "371702": 4,  # 菏泽 牡丹区
    "130102": 2,  # 石家庄 长安区
    "410502": 2,  # 安阳 文峰区
}
ETHNICITY_WEIGHTS = {"汉族": 992, "回族": 5, "满族": 2, "蒙古族": 1}
# Mobile prefixes of the three carriers (all valid for phonenumbers), by rough market share.
MOBILE_PREFIXES = {
    **dict.fromkeys(["134", "135", "136", "137", "138", "139", "150", "151", "152"], 6),
    **dict.fromkeys(["157", "158", "159", "178", "182", "183", "187", "188", "198"], 4),
    **dict.fromkeys(["130", "131", "132", "155", "156", "166", "175", "176", "185", "186"], 3),
    **dict.fromkeys(["133", "153", "173", "177", "180", "181", "189", "191", "199"], 3),
}
MOVE_OUT_REASONS = ["迁往外地工作", "随子女迁居", "外出求学", "入伍", "迁往外地"]
DISABILITY_GRADES = {"一级": 12, "二级": 20, "三级": 30, "四级": 38}
DISABILITY_KINDS = [
    "肢体残疾",
    "视力残疾",
    "听力残疾",
    "言语残疾",
    "智力残疾",
    "精神残疾",
    "多重残疾",
]
FINDINGS = {
    "elderly": [
        "身体状况稳定，生活能自理，饮食起居正常。",
        "血压偏高，已提醒按时服药、定期测量。",
        "家中燃气、电器使用安全，已检查烟感报警器。",
        "老人反映腿脚不便，已联系志愿者帮助购买日用品。",
        "精神状态良好，子女每周来电，无特殊困难。",
        "天气转凉，提醒注意保暖，检查了取暖设施。",
        "已协助办理高龄津贴认证。",
        "讲解防范电信诈骗知识，老人表示已了解。",
    ],
    "care": [
        "家庭生活基本稳定，救助金按时发放。",
        "了解就医情况，已告知医疗救助申请流程。",
        "住房条件一般，已登记需求，待社区协调。",
        "家属反映照护压力大，已介绍日间照料服务。",
        "康复情况良好，辅具使用正常。",
        "按时服药，病情稳定，家属配合良好。",
    ],
    "child": [
        "孩子在校表现正常，监护人履职到位。",
        "与监护人沟通学习和生活情况，无异常。",
        "已联系学校老师了解近况，孩子情绪稳定。",
    ],
    "watch": [
        "本人情况稳定，按规定报告，无异常。",
        "与家属沟通，近期表现平稳。",
        "已提醒按期到相关部门报到。",
    ],
}
FOLLOW_UPS = [
    "联系社区医生上门测量血压",
    "协调物业维修楼道照明",
    "向街道民政办反映救助需求",
    "下周再次电话回访",
    "联系志愿者帮助代购药品",
]
TAG_TOPIC = {
    "elderly-alone": "elderly",
    "elderly-empty-nest": "elderly",
    "elderly-80": "elderly",
    "child-difficulty": "child",
    "child-left-behind": "child",
    "mental-disorder": "watch",
    "community-correction": "watch",
    "released": "watch",
    "drug-user": "watch",
    "petitioner": "watch",
}
TALENT_SKILLS = {
    "electrician": (14, "电工证（低压）", "水电维修、线路检查"),
    "plumber": (10, "", "管道疏通、水龙头更换"),
    "repair": (12, "", "家电和自行车维修"),
    "law": (6, "法律职业资格证书", "法律咨询、调解邻里纠纷"),
    "medicine": (12, "执业医师资格证", "量血压、健康咨询"),
    "psychology": (4, "心理咨询师证书", "心理疏导"),
    "education": (16, "教师资格证", "课业辅导、四点半课堂"),
    "culture": (14, "", "书法、剪纸、广场舞"),
    "it": (10, "", "教老人用智能手机"),
    "other": (2, "", "理发"),
}


@dataclass(slots=True)
class _Person:
    relation: str
    age: int
    gender: str
    surname: str
    given: str
    area: str
    birth: date = date.min
    phone: str = ""
    moved_out_on: date | None = None
    moved_out_reason: str = ""
    tags: dict[str, tuple[date, str, str]] = field(
        default_factory=dict
    )  # code → since, grade, note
    visit_days: list[date] = field(default_factory=list)
    next_visit_due: date | None = None

    @property
    def name(self) -> str:
        return self.surname + self.given


@dataclass(slots=True)
class _Home:
    grid: Area
    worker_id: int
    building_id: int
    address: str
    unit: str
    room: str
    urban: bool
    migrant: bool
    tenure: str
    moved_in: date
    number: str
    ethnicity: str
    people: list[_Person] = field(default_factory=list)


def _weighted(weights: dict) -> tuple[list, list]:
    return list(weights), list(weights.values())


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` in proportion to `weights` (largest remainders), adding up exactly."""
    shares = [total * w / sum(weights) for w in weights]
    counts = [math.floor(s) for s in shares]
    for i in sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])[
        : total - sum(counts)
    ]:
        counts[i] += 1
    return counts


def _birthday(birth: date, years: int) -> date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February
        return birth.replace(year=birth.year + years, day=28)


class _Draw:
    """Seeded choices: names from pools filled by Faker once, ages, ID numbers, phones."""

    def __init__(self, rng: random.Random, fake, today: date):
        self.r = rng
        self.today = today
        self.surnames = [fake.last_name() for _ in range(3000)]
        # Sorted: a set's order depends on the interpreter's string hashing.
        self.male = sorted({fake.first_name_male() for _ in range(800)})
        self.female = sorted({fake.first_name_female() for _ in range(800)})
        self.ids_used: set[str] = set()
        self.phones_used: set[str] = set()
        self.local_areas = _weighted(LOCAL_BIRTH_AREAS)
        self.migrant_areas = _weighted(MIGRANT_BIRTH_AREAS)
        self.prefixes = _weighted(MOBILE_PREFIXES)

    def surname(self) -> str:
        return self.r.choice(self.surnames)

    def given(self, gender: str) -> str:
        pool = self.male if gender == "M" else self.female
        first = self.r.choice(pool)
        if len(first) == 1 and self.r.random() < 0.6:
            second = self.r.choice(pool)
            if len(second) == 1 and second != first:
                return first + second
        return first

    def gender(self) -> str:
        return "M" if self.r.random() < 0.51 else "F"

    def age(self, low: int, high: int, mode: float | None = None) -> int:
        return max(0, min(high, int(self.r.triangular(low, high + 1, mode))))

    def area(self, migrant: bool) -> str:
        codes, weights = self.migrant_areas if migrant else self.local_areas
        return self.r.choices(codes, weights)[0]

    def person(self, relation, age, gender, surname=None, area=LOCAL_AREA) -> _Person:
        return _Person(
            relation=relation,
            age=max(0, age),
            gender=gender,
            surname=surname or self.surname(),
            given=self.given(gender),
            area=area,
        )

    def birth_date(self, age: int) -> date:
        # A birthday in the past year's window keeps the age exact on the day of the build.
        latest = _birthday(self.today, -age) if age else self.today
        return latest - timedelta(days=self.r.randrange(365))

    def id_number(self, person: _Person) -> str:
        """A valid number for the person's birth place, birth date and gender, unique in
        the build: the three sequence digits differ (odd for men)."""
        male = person.gender == "M"
        while True:
            sequence = self.r.randrange(500) * 2 + (1 if male else 0)
            number = id_number_make(person.area, person.birth, sequence)
            if number not in self.ids_used:
                self.ids_used.add(number)
                return number

    def phone(self) -> str:
        prefixes, weights = self.prefixes
        while True:
            number = f"{self.r.choices(prefixes, weights)[0]}{self.r.randrange(10**8):08d}"
            if number not in self.phones_used:
                self.phones_used.add(number)
                return number


def _couple(d: _Draw, low: int, high: int, mode: float, area: str, migrant: bool):
    """Head and spouse: the husband is the head in three households of four."""
    r = d.r
    husband_age = d.age(low, high, mode)
    wife_age = max(low - 3, husband_age - r.randint(-2, 5))
    husband = d.person("head", husband_age, "M", area=area)
    wife = d.person("spouse", wife_age, "F", area=d.area(migrant) if migrant else area)
    if r.random() < 0.25:
        husband.relation, wife.relation = "spouse", "head"
        return [wife, husband], husband, wife
    return [husband, wife], husband, wife


def _children(d: _Draw, n: int, father: _Person, mother: _Person, area: str) -> list[_Person]:
    r = d.r
    first = mother.age - r.randint(22, 33)
    kids = []
    for i in range(n):
        age = first - i * r.randint(2, 7)
        kids.append(d.person("child", max(0, age), d.gender(), father.surname, area))
    return kids


def _parents(d: _Draw, head: _Person, n: int, area: str) -> list[_Person]:
    r = d.r
    father_age = min(98, head.age + r.randint(24, 34))
    if n == 1:
        # Mothers outlive fathers: a widowed parent living in is mostly a mother.
        if r.random() < 0.68:
            return [d.person("parent", min(98, father_age - r.randint(0, 4)), "F", area=area)]
        return [d.person("parent", father_age, "M", head.surname, area)]
    return [
        d.person("parent", father_age, "M", head.surname, area),
        d.person("parent", min(98, father_age - r.randint(0, 4)), "F", area=area),
    ]


def _members(d: _Draw, size: int, migrant: bool, urban: bool) -> list[_Person]:
    """A household's people with their relation to the head, ages and surnames, drawn from
    the common shapes of Chinese households (census 2020: ~2.6 people a household, one in
    five people over 60, many elderly couples on their own)."""
    r = d.r
    area = d.area(migrant)
    pick = r.random()
    if size == 1:
        if pick < (0.03 if migrant else 0.13):
            gender = "F" if r.random() < 0.62 else "M"
            return [d.person("head", d.age(65, 95, 76), gender, area=area)]
        return [d.person("head", d.age(20, 62, 24), d.gender(), area=area)]
    if size == 2:
        if pick < (0.05 if migrant else 0.36):
            return _couple(d, 60, 88, 64, area, migrant)[0]
        if pick < (0.15 if migrant else 0.62):
            return _couple(d, 45, 64, 56, area, migrant)[0]
        if pick < 0.9:
            return _couple(d, 22, 42, 29, area, migrant)[0]
        parent = d.person("head", d.age(28, 52, 38), "F" if r.random() < 0.75 else "M", area=area)
        child = d.person("child", max(0, parent.age - r.randint(23, 34)), d.gender(), area=area)
        child.surname = parent.surname if parent.gender == "M" or r.random() < 0.3 else d.surname()
        return [parent, child]
    if size == 3:
        if pick < (0.12 if urban else 0.3) and not migrant:
            # 隔代家庭: grandparents bringing up a grandchild whose parents work away.
            people, grandfather, _ = _couple(d, 56, 74, 62, area, migrant)
            grandchild = d.person("grandchild", d.age(2, 15, 8), d.gender(), area=area)
            if people[0] is grandfather:
                grandchild.surname = grandfather.surname
            return [*people, grandchild]
        if pick < 0.4:
            people, _husband, _wife = _couple(d, 42, 62, 50, area, migrant)
            return [*people, *_parents(d, people[0], 1, area)]
        people, husband, wife = _couple(d, 26, 62, 43, area, migrant)
        return [*people, *_children(d, 1, husband, wife, area)]
    if size == 4:
        people, husband, wife = _couple(d, 29, 54, 39, area, migrant)
        if pick < 0.5:
            return [*people, *_children(d, 2, husband, wife, area)]
        return [*people, *_children(d, 1, husband, wife, area), *_parents(d, people[0], 1, area)]
    if pick < 0.5:
        people, husband, wife = _couple(d, 31, 52, 40, area, migrant)
        return [*people, *_children(d, 1, husband, wife, area), *_parents(d, people[0], 2, area)]
    if pick < 0.92:
        # Three generations: the elderly couple at the head, a married son and his child.
        people, husband, wife = _couple(d, 54, 74, 62, area, migrant)
        son = d.person("child", max(22, wife.age - r.randint(22, 30)), "M", husband.surname, area)
        daughter_in_law = d.person("relative", max(21, son.age - r.randint(-1, 4)), "F", area=area)
        grandchild = d.person(
            "grandchild",
            max(0, daughter_in_law.age - r.randint(22, 32)),
            d.gender(),
            son.surname,
            area,
        )
        return [*people, son, daughter_in_law, grandchild]
    people, husband, wife = _couple(d, 34, 50, 42, area, migrant)
    return [*people, *_children(d, 3, husband, wife, area)]


class _Register:
    """Draws and writes the register of one build."""

    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        # Its own generator, seeded from the build's with a single draw, so that a later
        # step's numbers do not depend on how many this step takes.
        self.r = random.Random(ctx.rng.getrandbits(64))
        self.today = timezone.localdate()
        self.tz = timezone.get_default_timezone()
        self.d = _Draw(self.r, ctx.fake, self.today)
        self.tags = {t.code: t for t in Tag.objects.filter(is_active=True)}
        self.homes: list[_Home] = []
        self.numbers: set[str] = set()
        self.link_user = ctx.users.get("resident1")

    # --- places -------------------------------------------------------------------------

    def _workers(self) -> dict[str, int]:
        return {
            u.area.code: u.pk
            for u in self.ctx.users.values()
            if u.role == "grid_worker" and u.area is not None
        }

    def _micro_grids(self) -> dict[str, list[tuple[Area, object]]]:
        micro: dict[str, list[tuple[Area, object]]] = {}
        for place in self.ctx.layout.level("microgrid"):
            polygon = shape(place.geometry)
            shapely.prepare(polygon)
            micro.setdefault(place.parent_code, []).append((self.ctx.areas[place.code], polygon))
        return micro

    def _rooms(self, floors: int, count: int) -> list[tuple[str, str]]:
        """`count` distinct (unit, room) of a building: walk-ups have two flats a landing,
        towers four; a low building standing for a row of bungalows gets more a floor."""
        per_floor = 2 if floors <= 6 else 4
        units = max(1, math.ceil(count / (floors * per_floor * 0.9)))
        if units > 6:
            units = 6
            per_floor = math.ceil(count / (floors * units * 0.9))
        slots = [
            (u, f, n)
            for u in range(1, units + 1)
            for f in range(1, floors + 1)
            for n in range(1, per_floor + 1)
        ]
        chosen = sorted(self.r.sample(slots, count))
        return [(f"{u}单元", f"{f}{n:02d}室") for u, f, n in chosen]

    def _number(self, grid: Area) -> str:
        while True:
            number = f"{grid.code}-{self.r.getrandbits(24):06X}"
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def draw_homes(self) -> None:
        layout = self.ctx.layout
        grids = sorted(layout.level("grid"), key=lambda g: g.code)
        urban = {g.code: g.land_use in URBAN_LAND_USE for g in grids}
        weights = [
            (URBAN_WEIGHT if urban[g.code] else RURAL_WEIGHT) * self.r.uniform(0.75, 1.25)
            for g in grids
        ]
        per_grid = _split(HOUSEHOLDS[layout.size], weights)
        buildings: dict[str, list] = {}
        for b in sorted(layout.buildings, key=lambda b: b.code):
            buildings.setdefault(b.grid_code, []).append(b)
        workers = self._workers()
        micro = self._micro_grids()
        for grid_place, n in zip(grids, per_grid, strict=True):
            in_grid = buildings.get(grid_place.code, [])
            if not n or not in_grid:
                continue
            is_urban = urban[grid_place.code]
            counts = _split(n, [b.floors * self.r.uniform(0.6, 1.4) for b in in_grid])
            for b, count in zip(in_grid, counts, strict=True):
                if not count:
                    continue
                grid = self.ctx.areas[grid_place.code]
                # Households in a grid with micro-grids belong to the lane they live in.
                for area, polygon in micro.get(grid_place.code, []):
                    if shapely.contains_xy(polygon, b.lon, b.lat):
                        grid = area
                        break
                for unit, room in self._rooms(b.floors, count):
                    self.homes.append(self._home(grid, workers, b, unit, room, is_urban))

    def _home(self, grid, workers, b, unit, room, urban) -> _Home:
        r = self.r
        migrant = r.random() < MIGRANT_SHARE[urban]
        if migrant:
            tenure = r.choices(["rented", "owned", "collective"], [72, 24, 4])[0]
            moved_in = self.today - timedelta(days=r.randint(20, 6 * 365))
        else:
            tenure = "rented" if r.random() < 0.065 else "owned"
            moved_in = self.today - timedelta(days=r.randint(200, 30 * 365))
        ethnicity = r.choices(*_weighted(ETHNICITY_WEIGHTS))[0]
        home = _Home(
            grid=grid,
            worker_id=workers[grid.code.split("-")[0]],
            building_id=self.ctx.buildings[b.code].pk,
            address=b.address,
            unit=unit,
            room=room,
            urban=urban,
            migrant=migrant,
            tenure=tenure,
            moved_in=moved_in,
            number=self._number(grid),
            ethnicity=ethnicity,
        )
        size = r.choices(range(1, 6), SIZE_WEIGHTS[migrant])[0]
        home.people = _members(self.d, size, migrant, urban)
        for person in home.people:
            person.birth = self.d.birth_date(person.age)
            # Adults carry phones; fewer of the very old (CNNIC: ~85 % of adults online).
            share = 0.92 if person.age < 60 else 0.78 if person.age < 75 else 0.45
            if person.age >= 18 and r.random() < share:
                person.phone = self.d.phone()
            if (
                person.relation not in ("head", "spouse")
                and person.age >= 18
                and r.random() < 0.005
            ):
                person.moved_out_on = self.today - timedelta(days=r.randint(10, 700))
                person.moved_out_reason = r.choice(MOVE_OUT_REASONS)
        return home

    # --- key populations ----------------------------------------------------------------

    def _since(self, person: _Person, at_age: int, most_days: int) -> date:
        """A start some time in the last `most_days`, not before the person turned
        `at_age`."""
        start = self.today - timedelta(days=self.r.randint(20, most_days))
        return max(start, _birthday(person.birth, at_age))

    def _tag(self, person: _Person, code: str, since: date, grade: str = "", note: str = ""):
        if code in self.tags:
            person.tags[code] = (min(since, self.today), grade, note)

    def draw_tags(self) -> None:
        r = self.r
        for home in self.homes:
            living = [p for p in home.people if p.moved_out_on is None]
            if not living:
                continue
            elderly = [p for p in living if p.age >= 60]
            if len(living) == 1 and living[0].age >= 65:
                self._tag(living[0], "elderly-alone", self._since(living[0], 65, 3000))
                if r.random() < 0.08:
                    self._tag(living[0], "tekun", self._since(living[0], 60, 3000))
            elif len(living) == len(elderly) == 2 and r.random() < 0.4:
                for p in living:
                    self._tag(p, "elderly-empty-nest", self._since(p, 60, 3000))
            if r.random() < 0.015:
                since = self.today - timedelta(days=r.randint(30, 8 * 365))
                for p in living:
                    self._tag(p, "dibao", max(since, p.birth))
            elif r.random() < 0.01:
                since = self.today - timedelta(days=r.randint(30, 5 * 365))
                for p in living:
                    self._tag(p, "low-income", max(since, p.birth))
            for p in living:
                self._person_tags(p, home)

    def _person_tags(self, p: _Person, home: _Home) -> None:
        r = self.r
        if p.age >= 80:
            self._tag(p, "elderly-80", _birthday(p.birth, 80))
        # Disability rises with age (2006 sample survey: 6.3 % of people, half over 60).
        if r.random() < (0.015 if p.age < 18 else 0.04 if p.age < 60 else 0.14):
            grade = r.choices(*_weighted(DISABILITY_GRADES))[0]
            self._tag(p, "disabled", self._since(p, 0, 20 * 365), grade, r.choice(DISABILITY_KINDS))
        if p.age < 18:
            if p.relation == "grandchild" and len(home.people) == 3 and r.random() < 0.6:
                self._tag(p, "child-left-behind", self._since(p, 0, 5 * 365))
            elif r.random() < 0.004:
                self._tag(p, "child-difficulty", self._since(p, 0, 5 * 365))
            return
        party = 0.05 if p.age < 35 else 0.07 if p.age < 60 else 0.1
        if r.random() < party * (1.2 if p.gender == "M" else 0.8):
            self._tag(p, "party-member", self._since(p, 18, 40 * 365))
        if r.random() < (0.08 if 55 <= p.age < 75 else 0.04):
            self._tag(p, "volunteer", self._since(p, 18, 8 * 365))
        if p.gender == "M" and p.age >= 20 and r.random() < 0.03:
            self._tag(p, "veteran", self._since(p, 20, 40 * 365))
            if r.random() < 0.1:
                self._tag(p, "youfu", self._since(p, 20, 20 * 365))
        if r.random() < (0.01 if p.age < 45 else 0.05 if p.age < 65 else 0.09):
            self._tag(p, "chronic-illness", self._since(p, 18, 10 * 365))
        if r.random() < 0.004:
            self._tag(p, "mental-disorder", self._since(p, 18, 10 * 365))
        if 20 <= p.age < 60:
            pick = r.random()
            if pick < 0.0004:
                self._tag(p, "community-correction", self._since(p, 20, 700))
            elif pick < 0.001:
                self._tag(p, "released", self._since(p, 20, 5 * 365))
            elif pick < 0.0013:
                self._tag(p, "drug-user", self._since(p, 20, 3 * 365))
            elif pick < 0.0016:
                self._tag(p, "petitioner", self._since(p, 20, 3 * 365))

    # --- visits -------------------------------------------------------------------------

    def draw_visits(self) -> None:
        for home in self.homes:
            for p in home.people:
                intervals = [
                    (self.tags[code].visit_interval_days, since)
                    for code, (since, _grade, _note) in p.tags.items()
                    if self.tags[code].visit_interval_days
                ]
                if intervals and p.moved_out_on is None:
                    # As visit_due_compute: the shortest interval, from the last visit or
                    # else from the earliest start among the tags that need visits.
                    interval = min(n for n, _since in intervals)
                    since = min(since for _n, since in intervals)
                    p.visit_days, p.next_visit_due = self.visit_days(interval, since)

    def visit_days(self, interval: int, since: date) -> tuple[list[date], date]:
        """Visit days, latest first, and the next due date as services.visit_due_compute
        would give it: most people seen on schedule, OVERDUE_SHARE of them late."""
        r = self.r
        if r.random() < OVERDUE_SHARE:
            due = self.today - timedelta(days=1 + min(int(r.expovariate(1 / 8)), 60))
        else:
            due = self.today + timedelta(days=r.randrange(interval))
        last = due - timedelta(days=interval)
        if last < since:
            # Tagged since after that visit would have been: not visited yet.
            return [], since + timedelta(days=interval)
        window = self.today - timedelta(days=VISIT_WINDOW_DAYS)
        days = [last]
        day = last
        while True:
            day -= timedelta(days=max(2, interval + r.randint(-3, 2)))
            if day < window or day < since:
                return days, due
            days.append(day)

    def visit_row(self, resident_id: int, worker_id: int, day: date, codes) -> Visit:
        r = self.r
        at = datetime.combine(day, time(r.randint(8, 17), r.randrange(0, 60, 5)), tzinfo=self.tz)
        topic = next((TAG_TOPIC[c] for c in codes if c in TAG_TOPIC), "care")
        follow_up = r.random() < 0.06
        return Visit(
            resident_id=resident_id,
            visitor_id=worker_id,
            visited_at=at,
            method=r.choices(["home", "phone", "video", "elsewhere"], [68, 22, 3, 7])[0],
            findings=r.choice(FINDINGS[topic]),
            follow_up_needed=follow_up,
            follow_up_note=r.choice(FOLLOW_UPS) if follow_up else "",
            created_at=at + timedelta(minutes=r.randint(5, 180)),
        )

    # --- writing ------------------------------------------------------------------------

    def _bar(self, total: int, desc: str):
        return tqdm(total=total, desc=desc, unit="row", leave=False, disable=not self.ctx.progress)

    def _write(self, model, rows: list, bar) -> list:
        made = []
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            made.extend(model.objects.bulk_create(chunk, batch_size=BATCH))
            bar.update(len(chunk))
        return made

    def _link_resident1(self) -> tuple[_Home, _Person] | None:
        """The demo resident login: the head of a family of three (a couple and their
        child) in the first grid, so that /people/mine/ shows a household."""
        if self.link_user is None:
            return None
        for home in self.homes:
            relations = sorted(p.relation for p in home.people)
            if relations == ["child", "head", "spouse"] and home.people[0].gender == "M":
                head = home.people[0]
                surname = self.link_user.name[:1] or head.surname
                for p in home.people:
                    if p.surname == head.surname:
                        p.surname = surname
                head.surname, head.given = surname, self.link_user.name[1:] or head.given
                if self.link_user.phone_encrypted:
                    phone = decrypt(self.link_user.phone_encrypted, context=USER_PHONE_CONTEXT)
                    head.phone = phone.removeprefix("+86")
                    self.d.phones_used.add(head.phone)
                return home, head
        return None

    def write(self) -> None:
        linked = self._link_resident1()
        homes = self.homes
        households = [
            Household(
                number=h.number,
                grid=h.grid,
                building_id=h.building_id,
                unit=h.unit,
                room=h.room,
                address=h.address,
                tenure=h.tenure,
                registration="migrant" if h.migrant else "registered",
            )
            for h in homes
        ]
        people = sum(len(h.people) for h in homes)
        with self._bar(len(households) + people, "households, residents") as bar:
            households = self._write(Household, households, bar)
            residents: list[Resident] = []
            for h, household in zip(homes, households, strict=True):
                for p in h.people:
                    residents.append(self._resident(household.pk, h, p))
            residents = self._write(Resident, residents, bar)
        everyone = [(h, p) for h in homes for p in h.people]
        if linked is not None:
            index = next(i for i, (_h, p) in enumerate(everyone) if p is linked[1])
            Resident.objects.filter(pk=residents[index].pk).update(user=self.link_user)

        links, visits, talents = [], [], []
        for (h, p), resident in zip(everyone, residents, strict=True):
            for code, (since, grade, note) in p.tags.items():
                links.append(
                    ResidentTag(
                        resident_id=resident.pk,
                        tag=self.tags[code],
                        grade=grade,
                        note=note,
                        since=since,
                        added_by_id=h.worker_id,
                    )
                )
            visits.extend(self.visit_row(resident.pk, h.worker_id, d, p.tags) for d in p.visit_days)
            if p.age >= 18 and p.moved_out_on is None and self.r.random() < 0.01:
                talents.append(self._talent(resident.pk, h.worker_id))
        with self._bar(len(links) + len(visits) + len(talents), "tags, visits") as bar:
            self._write(ResidentTag, links, bar)
            self._write(Visit, visits, bar)
            self._write(Talent, talents, bar)
        self.ctx.summary |= {
            "households": len(households),
            "residents": len(residents),
            "tagged": sum(1 for _h, p in everyone if p.tags),
            "visits": len(visits),
            "talents": len(talents),
        }

    def _resident(self, household_id: int, h: _Home, p: _Person) -> Resident:
        number = self.d.id_number(p)
        values = {
            "id_number_encrypted": encrypt(number, context=ID_NUMBER_CONTEXT),
            "id_number_index": blind_index(number, context=ID_NUMBER_CONTEXT),
            "id_number_masked": mask_id_number(number),
        }
        if p.phone:
            e164 = f"+86{p.phone}"
            values |= {
                "phone_encrypted": encrypt(e164, context=PHONE_CONTEXT),
                "phone_index": blind_index(e164, context=PHONE_CONTEXT),
                "phone_masked": mask_phone(e164),
            }
        moved_in = max(h.moved_in, p.birth)
        if p.moved_out_on is not None:
            moved_in = min(moved_in, p.moved_out_on)
        return Resident(
            household_id=household_id,
            name=p.name,
            gender=p.gender,
            birth_date=p.birth,
            ethnicity=h.ethnicity,
            relation=p.relation,
            moved_in_on=moved_in,
            moved_out_on=p.moved_out_on,
            moved_out_reason=p.moved_out_reason,
            next_visit_due=p.next_visit_due,
            **values,
        )

    def _talent(self, resident_id: int, worker_id: int) -> Talent:
        r = self.r
        skill = r.choices(list(TALENT_SKILLS), [w for w, _c, _d in TALENT_SKILLS.values()])[0]
        _weight, certificate, detail = TALENT_SKILLS[skill]
        consent = r.random() < 0.85
        at = datetime.combine(
            self.today - timedelta(days=r.randint(10, 900)), time(10, 0), tzinfo=self.tz
        )
        return Talent(
            resident_id=resident_id,
            skill=skill,
            detail=detail,
            certificate=certificate if r.random() < 0.7 else "",
            willing_to_serve=consent and r.random() < 0.8,
            consent_at=at if consent else None,
            consent_by_id=worker_id if consent else None,
        )


@register_demo_step
def demo_register(ctx: DemoContext) -> None:
    """Households in every grid's buildings, their residents, key-population tags, talents
    and visits, with next_visit_due as the services would keep it."""
    register = _Register(ctx)
    register.draw_homes()
    register.draw_tags()
    register.draw_visits()
    register.write()
