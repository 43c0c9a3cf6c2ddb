"""A year of cases on the demo street (issue 4 §8): about 40,000 reports over the twelve
months before the build (a few hundred at the small size), so that every list, queue and
later dashboard shows believable work.

Why not the services: case_services locks, checks and notifies one case at a time, which
takes minutes for 40,000 cases and would send a year of notifications to the demo users.
So this step *simulates* each case move by move along workflow.TRANSITIONS, changing the
same Case fields and appending the same CaseEvent rows (actor, from, to, note, public, data)
that the services would have, and writes everything in bulk inserts (about 20 s for the
full year). No notification is sent for the past year, and the cases carry no photos
(files would bloat the demo).

What holds, as if the services had run all year:
- every status is reached through TRANSITIONS, one event per move, from/to continuous;
  timeline notes (urge, extension, whistle, merged_in, the SLA sweep's alerts) carry the
  status of their moment;
- the actors are the right personas: a street dispatcher for the centre's moves and the
  12345 callback, the handler of the lead department for sign/send-back/start/reply, the
  grid worker of the grid for the on-site check, the reporter for their own rating;
- milestone times on the Case are the times of their events; deadlines come from
  linli.core.workcal.deadline with the matter's limit (selectors.matter_limit) from the
  dispatch (or reopen), and from the extension approved since;
- the SLA sweep's reminders, overdue notices and escalations (CaseAlert) are those a sweep
  every SWEEP_SECONDS would have taken;
- 12345 callers' phones are sealed like every phone (case_services.contact_phone_fields).

Everything is drawn from one random.Random seeded from the build's, and times count back
from a fixed `now` (settings.LINLI_DEMO_NOW when set, else the start of the current hour),
so the same seed at the same hour gives the same year. At the full size the residents who
report through the app get accounts of their own (no password: they are not demo logins);
at the small size the one resident login reports.
"""

import bisect
import hashlib
import itertools
import random
import re
import string
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import shapely
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone
from faker import Faker
from shapely.geometry import shape
from tqdm import tqdm

from linli.accounts.models import User
from linli.areas.models import Building
from linli.cases.case_services import (
    ESCALATE_WORKING_DAYS,
    REMIND_WORKING_HOURS,
    case_number,
    contact_phone_fields,
)
from linli.cases.counters import COUNTERS
from linli.cases.models import (
    Case,
    CaseAlert,
    CaseAssignment,
    CaseEvent,
    CaseSupport,
    Exemption,
    Extension,
    Matter,
    SensorDevice,
    Whistle,
    WhistleCall,
)
from linli.cases.selectors import matter_limit
from linli.cases.workflow import (
    OPEN_STATUSES,
    PUBLIC_ACTIONS,
    PUBLIC_NOTES,
    RUNNING_STATUSES,
    TRANSITIONS,
)
from linli.core import workcal
from linli.demo.services import URBAN_LAND_USE, DemoContext, register_demo_step
from linli.people.models import Resident


def _weighted(weights: dict) -> tuple[list, list[float]]:
    keys = list(weights)
    total, cumulative = 0.0, []
    for key in keys:
        total += weights[key]
        cumulative.append(total)
    return keys, cumulative


CASES = {"full": 40_000, "small": 300}
# Residents with an account who report through the app. Only at the full size: the small
# street is the tests' street, whose accounts are exactly the layout's.
RESIDENT_ACCOUNTS = {"full": 2_400, "small": 0}
SENSOR_DEVICES = {"full": 48, "small": 4}
BATCH = 2_000
MINUTE, HOUR, DAY = 60, 3600, 86_400
# The SLA sweep's period in production (a cron or tasks worker every ten minutes).
SWEEP_SECONDS = 600
REMIND_HOURS = REMIND_WORKING_HOURS
ESCALATE_DAYS = ESCALATE_WORKING_DAYS

# Where reports come from (issue 4 §3), in per cent.
SOURCE_SHARES = {"resident": 45, "grid_worker": 30, "hotline": 20, "sensor": 2, "import": 3}
# Outcomes, as chances per case. Parked cases are mostly long-term problems that wait for
# money or a season; a quarter of them are resumed within the year.
P_REJECT = 0.03
P_REJECT_SENSOR = 0.25  # false alarms
P_PARK = 0.045
P_RESUME = 0.25
P_SEND_BACK = 0.04
P_SECOND_SEND_BACK = 0.1
P_REWORK = 0.03
P_EXTENSION = 0.02
P_EXTENSION_APPROVED = 0.8
P_LATE = 0.04
P_URGE = 0.03
P_URGE_LATE = 0.5
P_CO_HANDLER = 0.03
P_ME_TOO = 0.04
P_RESIDENT_RATES = 0.8
P_RATED = 0.97
P_ARCHIVED = 0.985
P_REOPEN = 0.75
# Exemptions from the KPIs (免考核, linli.cases.exemptions) asked for closed or rejected
# cases: most approved by the leader, some refused, the latest few still waiting.
EXEMPTIONS = {"full": 40, "small": 6}
EXEMPTIONS_PENDING = {"full": 3, "small": 1}
EXEMPTION_REFUSED_EVERY = 5  # one decided request in five is refused
DUPLICATE_SHARE = 0.01
WHISTLE_SHARE = 0.003
SATISFACTION = _weighted({"satisfied": 92, "basic": 6, "unsatisfied": 2})
SATISFACTION_AFTER_REOPEN = _weighted({"satisfied": 70, "basic": 25, "unsatisfied": 5})
# The backlog at the build: cases stuck at a status, as shares of all cases, reported
# within the last so many days (more of them recently).
STALLS = {
    "reported": (0.003, 3),
    "accepted": (0.004, 7),
    "dispatched": (0.006, 14),
    "signed": (0.006, 21),
    "handling": (0.016, 42),
    "replied": (0.005, 10),
}
STALL_MINIMUM = 2

# Reports by hour of the day (local time): residents mostly in office hours with an evening
# peak after work; the hotline answers around the clock, busiest by day.
RESIDENT_HOURS = [2, 1, 1, 1, 1, 3, 8, 20, 38, 48, 50, 44, 34, 30, 40, 44, 44, 46, 56, 70, 74, 58]
RESIDENT_HOURS += [32, 10]
HOTLINE_HOURS = [3, 2, 1, 1, 1, 2, 6, 18, 40, 52, 52, 46, 34, 36, 46, 48, 46, 40, 34, 30, 26, 18]
HOTLINE_HOURS += [10, 5]
RESIDENT_HOURS_TABLE = list(itertools.accumulate(RESIDENT_HOURS))
HOTLINE_HOURS_TABLE = list(itertools.accumulate(HOTLINE_HOURS))
# Volume by month: summer brings noise, rubbish and night stalls; the Spring Festival is quiet.
MONTH_VOLUME = {1: 0.85, 2: 0.8, 3: 0.95, 4: 1.0, 5: 1.08, 6: 1.15, 7: 1.2, 8: 1.2, 9: 1.08}
MONTH_VOLUME |= {10: 1.0, 11: 0.95, 12: 0.9}
SUMMER = {5: 1.5, 6: 1.8, 7: 2.0, 8: 2.0, 9: 1.4}
# Matters whose number follows the season (month → factor; months not named get `other`).
SEASONS = {
    "10008": ({11: 1.5, 12: 3.0, 1: 3.0, 2: 2.5, 3: 1.0}, 0.0),  # heating, Nov 15 – Mar 15
    "10001": ({12: 3.0, 1: 4.0, 2: 2.0}, 0.0),  # snow and ice
    "06028": (SUMMER, 0.8),
    "06029": (SUMMER, 0.4),
    "09008": (SUMMER, 0.5),
    "06032": ({6: 2.5, 7: 3.0, 8: 3.0, 9: 2.0}, 0.4),
    "06020": ({6: 2.0, 7: 5.0, 8: 5.0, 9: 1.5}, 0.3),
    "06008": ({10: 3.0, 11: 3.0, 3: 1.5}, 0.6),
}
# The manhole covers (井盖) are ten matters by owner; reports of "a cover" spread over them.
COVERS = {
    "01001": 25, "01002": 18, "01003": 20, "01004": 10, "01005": 7,
    "01006": 4, "01007": 8, "01008": 3, "01009": 4, "01010": 1,
}  # fmt: skip
# Each source's common matters in per cent of its reports; the rest of its share goes to
# the long tail of the catalogue.
COMMON = {
    "resident": {
        "06028": 8, "11002": 8, "06010": 7, "09009": 7, "11001": 5, "01037": 5,
        "06036": 4, "11008": 4, "09006": 4, "COVER": 3, "11010": 3, "11012": 2,
        "10008": 2, "11018": 2, "06027": 1.5, "09010": 1.5, "11014": 1.5, "06018": 1.5,
    },
    "grid_worker": {
        "06010": 14, "09006": 10, "06036": 6, "09005": 6, "06034": 5, "01037": 5,
        "COVER": 5, "07001": 5, "09009": 4, "07002": 3, "09010": 3, "11005": 2,
        "06001": 2, "11012": 2,
    },
    "hotline": {
        "11002": 12, "06028": 10, "11001": 6, "09009": 6, "10008": 5, "06010": 5,
        "09006": 4, "10006": 3, "01037": 3, "11010": 3, "08001": 3, "10007": 2,
        "06027": 2, "08003": 2, "10012": 1, "10011": 1,
    },
    "import": {
        "06010": 15, "09006": 12, "01037": 8, "COVER": 8, "06036": 6, "07001": 6,
        "09005": 6, "06013": 5,
    },
}  # fmt: skip
URGENCY = {"normal": 90, "urgent": 8, "critical": 2}
URGENCY_BY_MATTER = {
    "10005": {"normal": 30, "urgent": 40, "critical": 30},
    "11006": {"normal": 50, "urgent": 40, "critical": 10},
    "11015": {"normal": 70, "urgent": 30},
    "11004": {"normal": 60, "urgent": 30, "critical": 10},
    "10004": {"normal": 40, "urgent": 40, "critical": 20},
}
# (matter, device code prefix, device name, alarms, share)
SENSORS = [
    ("11016", "YG", "烟感探测器", ["烟雾浓度超过报警阈值", "烟雾报警"], 50),
    (
        "11015",
        "DT",
        "电梯物联网监测终端",
        ["电梯困人报警", "电梯运行异常停梯", "轿厢门异常开启"],
        25,
    ),
    ("06020", "SW", "积水监测仪", ["积水深度{n}0厘米，超过警戒值", "积水深度持续上升"], 15),
    ("10005", "RQ", "可燃气体探测器", ["可燃气体浓度超限"], 10),
]
MOBILE_PREFIXES = ["134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158"]
MOBILE_PREFIXES += ["159", "178", "182", "183", "187", "188", "130", "131", "132", "155", "156"]
MOBILE_PREFIXES += ["166", "176", "185", "186", "133", "153", "173", "177", "180", "181", "189"]

# --- words ------------------------------------------------------------------------------------
# Descriptions are per-matter templates; {where} is a place near the case's building. No
# template names a person.

# {where} is a place outdoors near the building, {street} the road outside it, {home} the
# building and stairwell ("锦华社区3号楼2单元"). A template may come with the answers it
# implies.
TEMPLATES = {
    "06010": [
        "{where}有一堆生活垃圾没人清理，天热味道很大。",
        "{where}垃圾桶旁边散落着很多垃圾袋，已经{days}天了。",
        ("{where}有暴露垃圾约{n}袋，影响环境卫生。", {"amount": "small"}),
        ("{where}路边有人倾倒生活垃圾和装修垃圾，足有一车。", {"amount": "cart"}),
    ],
    "09006": [
        "{where}有商贩摆摊卖水果蔬菜，占用人行道，行人只能走机动车道。",
        "{where}早市摊点占道经营，收摊后地面脏乱。",
        "{where}有流动三轮车占道售卖，影响车辆和行人通行。",
        "{where}有摊点晚上占道经营到深夜，桌椅摆满人行道。",
    ],
    "06036": [
        "{where}有人长期堆放旧家具、纸箱等杂物，占用公共空间。",
        "{where}堆满废旧杂物，存在消防隐患。",
        "{where}绿化带里堆放着杂物，影响环境。",
    ],
    "06034": [
        "{where}堆放沙子、砖块等建筑材料，没有苫盖也没有围挡。",
        "{where}有装修材料长期堆放在路边，影响通行。",
    ],
    "01037": [
        ("{where}路灯不亮，晚上一片漆黑，老人出行不安全。", {"lamp_state": "off"}),
        ("{where}有{n}盏路灯白天一直亮着。", {"lamp_state": "on_daytime"}),
        ("{where}路灯忽明忽暗。", {"lamp_state": "flicker"}),
        ("{where}路灯杆倾斜，担心倒下砸到人。", {"lamp_state": "leaning"}),
    ],
    "COVER": [
        ("{where}{matter}缺失，只剩一个洞，非常危险。", {"cover_state": "missing"}),
        ("{where}{matter}破损，车辆压过时响声很大。", {"cover_state": "broken"}),
        ("{where}{matter}移位，已经有行人差点绊倒。", {"cover_state": "displaced"}),
        ("{where}{matter}松动，车辆经过咣当作响。", {"cover_state": "noisy"}),
    ],
    "09009": [
        ("{where}有车辆长期乱停，堵住了单元门口。", {"blocking": "yes"}),
        "{where}车辆停在人行道上，轮椅和婴儿车都过不去。",
        ("{where}一辆车停在小区出入口，其他车辆无法进出。", {"blocking": "yes"}),
        "{where}经常有车辆压着绿化带停放，多次提醒无效。",
    ],
    "09010": [
        "{where}电动车、自行车停放杂乱，占了盲道。",
        "{where}非机动车乱停乱放，挡住了店铺门口和通道。",
    ],
    "06028": [
        (
            "{where}有商铺用音响招揽生意，声音很大，从早到晚不停。",
            {"source": "shop", "periods": ["day", "evening"]},
        ),
        (
            "{where}广场舞音响音量太大，晚上九点以后还在跳。",
            {"source": "square_dance", "periods": ["evening"]},
        ),
        (
            "{home}楼上住户晚上经常发出很大的噪音，影响休息。",
            {"source": "household", "periods": ["late_night"]},
        ),
        (
            "{where}夜里经常有车辆轰油门，噪声很大。",
            {"source": "vehicle", "periods": ["late_night"]},
        ),
        (
            "{where}一家饭店的空调外机噪声很大，晚上睡不着。",
            {"source": "shop", "periods": ["evening", "late_night"]},
        ),
    ],
    "11001": [
        "{home}楼上楼下因为漏水问题发生纠纷，协商没有结果，希望社区协调。",
        "{home}邻居在楼道堆放物品，多次沟通没有结果，请求调解。",
        "{where}两户居民因为停车位多次发生争吵，请求调解。",
        "{home}邻居家的狗经常在夜里叫，沟通后没有改善，请社区帮忙调解。",
    ],
    "11002": [
        "小区物业不作为，{where}的垃圾好几天没人清理。",
        "{home}门禁坏了一个多月，物业一直没有修。",
        "物业费上涨没有公示，{home}的业主意见很大，希望街道监督。",
        "{home}电梯经常停运，物业维修不及时。",
        "{where}的绿化多年没有修剪，物业不管。",
    ],
    "11008": [
        "{home}楼道里堆满了纸箱和旧家具，堵住了安全通道。",
        "{home}楼道内停放电动车、堆放杂物，存在消防隐患。",
    ],
    "11010": [
        ("{home}楼上卫生间漏水，渗到我家天花板，已经{days}天了。", {"where": ["ceiling"]}),
        ("{home}外墙渗水，屋里墙皮大面积脱落。", {"where": ["wall"]}),
    ],
    "11012": [
        "{home}有住户从楼上拉电线给电动车充电，非常危险。",
        "{where}经常有人飞线充电，电线横跨人行道。",
    ],
    "10008": [
        "家里暖气不热，室温只有{temp}度左右，{home}好几户都这样。",
        "{home}暖气时冷时热，家里有老人孩子，请尽快处理。",
    ],
    "10006": ["{home}从早上开始停水，没有接到任何通知。", "{home}水压很低，高层基本没水。"],
    "06018": ["{where}的垃圾桶满了{days}天没人清运，垃圾溢出来了。"],
    "09005": [
        "{where}有店铺把货物摆到店外经营，占用人行道。",
        "{where}饭店在门外摆桌子营业，影响通行。",
    ],
    "07001": [
        "{where}墙面和电线杆上贴满了小广告。",
        "{where}有人乱贴开锁、办证小广告，清理后又贴上了。",
    ],
    "06001": ["{home}有住户在楼顶私自搭建彩钢房。", "{where}一楼住户私自扩建院墙，占用公共绿地。"],
    "11018": [
        "{where}有人遛狗不拴绳，吓到了小孩。",
        "{home}有人养的狗经常在楼道里便溺，没有清理。",
    ],
    "06027": ["{where}饭店油烟直排，楼上住户不敢开窗。"],
    "11014": ["{home}楼道灯坏了，晚上上下楼看不见。"],
    "11005": [
        ("{home}消防通道被杂物堵住，灭火器也过期了。", {"hazards": ["extinguisher", "exit"]}),
        ("{home}楼道里电线私拉乱接。", {"hazards": ["wiring"]}),
    ],
    "08001": ["{where}的工地施工噪声很大，中午也不停。"],
    "08003": ["{where}的工地晚上十点以后还在施工，噪声很大。"],
}
GENERIC_TEMPLATES = {
    # Street furniture is found along roads ({street}), not beside a block of flats.
    "component": [
        "{street}的{matter}损坏，需要维修。",
        "{street}的{matter}出现故障，存在安全隐患。",
        "{street}的{matter}坏了好几天了，一直没人修。",
    ],
    "event": [
        "{where}存在{matter}问题，请相关部门处理。",
        "{where}{matter}，影响周边居民生活，希望尽快解决。",
        "{where}发现{matter}情况，已经持续一段时间。",
        "{where}有{matter}现象，麻烦管一管。",
    ],
}
# (openings, closings) by source: how a resident, a grid worker, the 12345 operator and the
# digital city-management platform word a report.
WORDING = {
    "resident": (["", "", "", "", "您好，", "反映一个问题：", "你好，"], [
        "", "", "", "麻烦尽快处理，谢谢！", "希望有关部门管一管。",
        "已经反映过一次了，还是没解决。", "请尽快派人来看看。",
    ]),
    "grid_worker": (["巡查发现：", "网格巡查中发现", "日常巡查发现"], [
        "已拍照留存。", "已现场劝导，需职能部门处理。", "", "",
    ]),
    "hotline": (["市民来电反映：", "来电人反映：", "12345转办：市民反映"], [
        "来电人要求尽快处理并回复。", "请核实处理。", "",
    ]),
    "import": (["【数字城管】", "【数字城管】立案："], [""]),
}  # fmt: skip
REPLIES = {
    "06010": ["已安排环卫人员清运，现场已清理干净。", "垃圾已全部清运，并对周边进行了冲洗消杀。"],
    "09006": ["执法队员到场劝离摊贩，已恢复通行。", "已对经营者进行教育，责令其进入市场规范经营。"],
    "06036": ["已联系相关住户自行清理，现场已清理完毕。", "已组织人员清理杂物，共清运{n}车。"],
    "06034": ["已责令施工方苫盖并清理多余物料。"],
    "01037": ["经检查为线路故障，已修复，路灯恢复正常。", "已更换灯具，恢复照明。"],
    "COVER": ["已更换新井盖并加固。", "已设置警示标志，井盖已修复。"],
    "09009": ["交警已到场，联系车主将车辆挪走。", "已对违停车辆贴单处罚，车辆已驶离。"],
    "09010": ["已组织人员将非机动车规整摆放。"],
    "06028": ["已现场劝导，噪声源已停止。", "已约谈噪声制造方，对方承诺控制音量和时段。"],
    "11001": ["社区调解员组织双方协商，已达成一致意见。", "已入户了解情况，经调解双方各让一步。"],
    "11002": ["已约谈物业公司，限期整改，现已整改完毕。", "已督促物业维修，现已恢复正常。"],
    "10008": [
        "热力公司已上门排查，清洗过滤网后室温恢复到{temp2}度。",
        "已对管网排气，温度恢复正常。",
    ],
    "10006": ["管道抢修完毕，已恢复供水。"],
    "11012": ["已拆除飞线，并对住户进行安全教育。"],
}
GENERIC_REPLIES = [
    "已到现场处理完毕。",
    "问题已整改到位，请核查。",
    "已安排人员处理，现场恢复正常。",
    "已处置完毕。",
    "经现场处理，问题已解决。",
]
VERIFY_PASS = [
    "现场核查，问题已解决。",
    "已复核，现场整改到位。",
    "经现场查看，已处理完毕。",
    "核查通过。",
]
VERIFY_FAIL = [
    "现场核查发现问题仍然存在，需继续处理。",
    "只处理了一部分，仍有遗留，请返工。",
    "复核时发现问题反弹，要求返工。",
]
REJECT = [
    "经核实不属于本街道受理范围，已告知反映人向有关单位反映。",
    "描述不清且无法联系反映人，无法核实。",
    "经现场查看未发现所反映的问题。",
    "属于民事合同纠纷，建议通过法律途径解决。",
]
REJECT_SENSOR = [
    "经现场核实为误报（厨房油烟触发）。",
    "设备故障误报，已通知维保单位检修。",
    "系统测试报警，非真实警情。",
]
SEND_BACK = {
    "not_ours": [
        "该问题不属于本单位职责，请重新派遣。",
        "经核实属于产权单位管理范围，非本单位职责。",
    ],
    "wrong_area": ["该地点不在本单位管辖范围。"],
    "unclear": ["位置描述不清，现场未找到，请补充具体位置。"],
    "duplicate": ["与已派发的工单重复。"],
}
SEND_BACK_WEIGHTS = _weighted({"not_ours": 50, "wrong_area": 15, "unclear": 20, "duplicate": 15})
PARK = [
    "需纳入年度改造计划统筹解决，暂时挂账。",
    "涉及历史遗留问题，需多部门协调，暂挂账。",
    "需等待资金批复后实施，暂挂账。",
    "目前不具备施工条件，待条件具备后处理。",
]
RESUME = ["资金已落实，恢复办理。", "施工条件已具备，重新派遣。", ""]
EXTENSION_REASONS = [
    "需协调产权单位，申请延期。",
    "需采购配件，到货后处理。",
    "天气原因无法施工，申请延期。",
    "涉及多户居民，需逐户沟通。",
]
EXTENSION_REFUSALS = ["时限内可以完成，请抓紧办理。", "理由不充分，请按时办结。"]
URGES = ["请抓紧办理。", "群众多次来电催促，请加快处理。", "已临近时限，请尽快反馈。"]
URGES_LATE = ["已超期，请说明原因并尽快办结。", "已超时限，请立即处理并反馈。"]
WHISTLES = ["问题涉及多个部门，请相关部门到场联合处置。", "该问题反复出现，召集相关部门现场会商。"]
REPORT_INS = ["已到场。", "已派人到现场。", ""]
REOPENS = ["回访不满意：问题没有彻底解决，重新办理。", "反映人表示问题反弹，重新派遣。"]
EXEMPTION_NOTES = {
    "malicious": ["反映人一周内重复来电二十余次，诉求已办结仍反复投诉。", "经核实为恶意重复投诉。"],
    "unreasonable": ["诉求超出政策规定，已向反映人解释。", "反映人要求的补偿无政策依据。"],
    "outside": ["该事项属上级部门职责，不属本街道办理范围。", "涉及地铁施工，由市级部门负责。"],
    "force_majeure": ["暴雨红色预警期间无法施工。", "受台风影响，处置时间顺延。"],
}
EXEMPTION_REASONS_CLOSED = ["malicious", "unreasonable", "force_majeure"]
EXEMPTION_REASONS_REJECTED = ["outside", "malicious", "unreasonable"]
EXEMPTION_APPROVALS = ["情况属实，同意不纳入考核。", ""]
EXEMPTION_REFUSALS = ["理由不充分，仍纳入考核。", "应在时限内办结，不同意免考核。"]
MERGES = ["同一位置同一问题，已合并到原案件办理。", "与在办案件重复，合并办理。"]
RATE_NOTES = ["", "", "", "", "处理很及时，谢谢！", "满意。"]
RATE_NOTES_UNSATISFIED = ["问题还在，没有解决。", "只是应付，过两天又恢复原样了。"]
PLACES = ["东侧", "西侧", "南侧", "北侧", "楼下", "门口", "旁边"]
GATES = ["南门", "北门", "东门", "西门", "健身广场", "停车场", "小游园"]
ROAD = re.compile(r"区(\D+?)(\d+号)")
# Answers to free-text questions, by question code.
TEXT_ANSWERS = {
    "account": [
        "已经持续一个多月，多次沟通无果。",
        "双方各执一词，需要第三方协调。",
        "问题反复出现。",
    ],
    "situation": ["老人独居，电话联系不上。", "老人行动不便，需要人上门看看。"],
    "equipment": ["单杠", "漫步机", "扭腰器", "秋千"],
    "contact_time": ["上午", "下午", "工作日均可"],
    "note": ["", "附近有学校。", "早晚高峰最严重。"],
    "plate": ["鲁E·{plate}"],
}
CHOICE_WEIGHTS = {
    "anyone_hurt": {"no": 90, "unknown": 8, "yes": 2},
    "trapped": {"no": 85, "yes": 15},
    "still_sparking": {"no": 70, "yes": 30},
}


# --- the office calendar ----------------------------------------------------------------------


class _Office:
    """Office time over the demo's window as sorted epoch seconds, for drawing when staff act
    (in office hours) in O(log n). Deadlines themselves come from workcal."""

    def __init__(self, first: date, last: date, zone):
        self.zone = zone
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []  # office seconds before each period
        self.after: list[int] = []  # office seconds up to each period's end
        self.workdays: list[date] = []
        total = 0
        day = first
        while day <= last:
            if workcal.is_working_day(day):
                self.workdays.append(day)
                for begin, end in settings.LINLI_OFFICE_HOURS:
                    start = int(datetime.combine(day, begin, tzinfo=zone).timestamp())
                    stop = int(datetime.combine(day, end, tzinfo=zone).timestamp())
                    self.starts.append(start)
                    self.ends.append(stop)
                    self.before.append(total)
                    total += stop - start
                    self.after.append(total)
            day += timedelta(days=1)
        self.beyond = self.ends[-1] + 3650 * DAY

    def worked(self, t: int) -> int:
        """Office seconds from the window's start to `t`."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def at(self, w: float) -> int:
        """The first moment by which `w` office seconds have passed (an end of office time
        when `w` falls exactly on one); far in the future past the window."""
        i = bisect.bisect_left(self.after, w)
        if i >= len(self.after):
            return self.beyond
        return int(self.starts[i] + max(0, w - self.before[i]))

    def add(self, t: int, seconds: float) -> int:
        """`seconds` of office time after `t` (from the next office period when `t` is outside
        office hours)."""
        return max(t, self.at(self.worked(t) + max(1, seconds)))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days D with start < D ≤ end (workcal.working_days_between)."""
        return bisect.bisect_right(self.workdays, end) - bisect.bisect_right(self.workdays, start)


# --- the plan of one case -----------------------------------------------------------------------


class _Stop(Exception):
    """The case's next step falls after `now` (or it reached its backlog status): it stays
    where it is."""


@dataclass(eq=False)
class _Exempt:
    reason: str
    note: str
    requested_by: int
    created: int
    status: str = "pending"
    decided_by: int | None = None
    decided_at: int | None = None
    decision_note: str = ""
    row: Exemption | None = None


@dataclass(eq=False)
class _Ext:
    department_id: int
    requested_by: int
    reason: str
    amount: int
    unit: str
    old: int
    new: int
    created: int
    status: str = "pending"
    decided_by: int | None = None
    decided_at: int | None = None
    note: str = ""
    row: Extension | None = None


@dataclass(eq=False)
class _Whistle:
    called_by: int
    note: str
    created: int
    calls: list = field(default_factory=list)  # [department_id, reported_at, by, note]
    row: Whistle | None = None


@dataclass(eq=False)
class _Plan:
    """One case as the simulation moves it: the fields the services would have set, its
    timeline as tuples (t, action, from, to, actor, note, public, data) and its other rows."""

    seq: int
    source: str
    matter: Matter
    urgency: str
    grid: object
    building: Building
    lon: float
    lat: float
    core: str
    description: str
    reporter_id: int | None
    anonymous: bool
    answers: dict
    reported: int
    external_ref: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    stall: str | None = None
    status: str = ""
    last: int = 0
    lead_department_id: int | None = None
    deadline: int | None = None
    accepted_at: int | None = None
    dispatched_at: int | None = None
    signed_at: int | None = None
    replied_at: int | None = None
    verified_at: int | None = None
    closed_at: int | None = None
    archived_at: int | None = None
    rework_count: int = 0
    sendback_count: int = 0
    reopen_count: int = 0
    satisfaction: str | None = None
    resolved: bool | None = None
    merged_into: "_Plan | None" = None
    events: list = field(default_factory=list)
    assignments: dict = field(default_factory=dict)  # department_id → (role, t)
    extensions: list = field(default_factory=list)
    whistles: list = field(default_factory=list)
    supports: list = field(default_factory=list)  # (user_id, kind, from plan, t)
    exemptions: list = field(default_factory=list)  # _Exempt
    exempt_reason: str = ""
    intervals: list = field(default_factory=list)  # [start, end, deadline] while running
    alerts: list = field(default_factory=list)  # (kind, deadline, t)
    pk: int = 0
    number: str = ""


class _Ref:
    """A value known only when writing: a case's number or a row's primary key."""

    __slots__ = ("thing",)

    def __init__(self, thing):
        self.thing = thing

    def value(self):
        if isinstance(self.thing, _Plan):
            return self.thing.number
        return self.thing.row.pk


EMPTY: dict = {}
REF_ACTIONS = {"merge", "merged_in", "extension_request", "extension_approve"}
REF_ACTIONS |= {"extension_refuse", "whistle", "report_in"}
REF_ACTIONS |= {"exemption_request", "exemption_approve", "exemption_refuse"}


# --- the year ----------------------------------------------------------------------------------


class _Year:
    """Draws, simulates and writes one build's year of cases."""

    def __init__(self, ctx: DemoContext, now: datetime):
        self.ctx = ctx
        # Its own generator, seeded from the build's with one draw, so that a later step's
        # numbers do not depend on how many this step takes.
        self.r = random.Random(ctx.rng.getrandbits(64))
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(self.r.getrandbits(32))
        self.zone = timezone.get_default_timezone()
        self.now = int(now.timestamp())
        self.start = self.now - 365 * DAY
        first = self._date(self.start) - timedelta(days=1)
        self.office = _Office(first, self._date(self.now) + timedelta(days=12), self.zone)
        self.days = [first + timedelta(days=i) for i in range(1, 367)]
        self.midnights = [self._midnight(d) for d in self.days]
        self.deadlines: dict = {}
        self.limits: dict = {}
        self.serial = 0
        self.sensor_serial = 0
        self.urgencies: dict = {}
        self.questions: dict = {}
        # Faker takes ~50 µs a name: callers' surnames come from a pool drawn once.
        self.surnames = [self.fake.last_name() for _i in range(120)]

    # --- time ---------------------------------------------------------------------------

    def _date(self, t: int) -> date:
        return datetime.fromtimestamp(t, self.zone).date()

    def _midnight(self, day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=self.zone).timestamp())

    def _iso(self, t: int) -> str:
        return datetime.fromtimestamp(t, self.zone).isoformat()

    def _deadline(self, start: int, amount: int, unit: str) -> int:
        """workcal.deadline, remembered: a limit in working days depends only on the start's
        date, one in working hours only on the office time passed by the start (every start
        in the same night or weekend counts from the same opening)."""
        if unit == "days":
            key = (self._date(start), amount, unit)
        elif start <= self.office.ends[-1]:
            key = (self.office.worked(start), amount, unit)
        else:
            key = (start, amount, unit)
        found = self.deadlines.get(key)
        if found is None:
            moment = datetime.fromtimestamp(start, self.zone)
            found = self.deadlines[key] = int(workcal.deadline(moment, amount, unit).timestamp())
        return found

    def _limit(self, matter: Matter, urgency: str) -> tuple[int, str]:
        key = (matter.pk, urgency)
        if key not in self.limits:
            limit = matter_limit(matter, urgency)
            self.limits[key] = (limit.amount, limit.unit)
        return self.limits[key]

    def _office_minutes(self, t: int, low: float, high: float) -> int:
        return self.office.add(t, self.r.uniform(low, high) * MINUTE)

    def _awake(self, t: int) -> int:
        """`t`, or the next morning when it falls in the night (a resident taps "rate")."""
        moment = datetime.fromtimestamp(t, self.zone)
        if 7 <= moment.hour < 23:
            return t
        day = moment.date() if moment.hour < 7 else moment.date() + timedelta(days=1)
        return self._midnight(day) + 7 * HOUR + self.r.randrange(2 * HOUR)

    # --- what there is --------------------------------------------------------------------

    def load(self) -> None:
        ctx, r = self.ctx, self.r
        users = sorted(ctx.users.values(), key=lambda u: u.username)
        self.dispatchers = [
            u.pk
            for u in users
            if u.role == "dispatcher" and u.area is not None and u.area.level == "street"
        ] or [u.pk for u in users if u.role in ("dispatcher", "admin")]
        self.handlers = {}
        for u in users:
            if u.role == "handler" and u.department_id not in self.handlers:
                self.handlers[u.department_id] = u.pk
        self.department_codes = {d.pk: d.code for d in ctx.departments.values()}
        workers = {u.area.code: u.pk for u in users if u.role == "grid_worker" and u.area}
        by_grid: dict[str, list] = {}
        for building in sorted(ctx.buildings.values(), key=lambda b: b.code):
            by_grid.setdefault(building.grid.code, []).append(building)
        self.grids = []
        for place in sorted(ctx.layout.level("grid"), key=lambda g: g.code):
            buildings = by_grid.get(place.code)
            if not buildings or place.code not in workers:
                continue
            polygon = shape(place.geometry)
            shapely.prepare(polygon)
            urban = place.land_use in URBAN_LAND_USE
            weight = (1.0 if urban else 0.3) * len(buildings) * r.uniform(0.7, 1.3)
            # (area, polygon, buildings, grid worker, weight)
            grid = (ctx.areas[place.code], polygon, buildings, workers[place.code], weight)
            self.grids.append(grid)
        self.grid_keys, self.grid_weights = _weighted({i: g[4] for i, g in enumerate(self.grids)})
        self.grid_of = {g[0].code: g for g in self.grids}
        matters = (
            Matter.objects.filter(is_active=True, lead_department__isnull=False)
            .select_related("matter_class")
            .prefetch_related("limits", "questions__options")
            .order_by("code")
        )
        self.matters = {
            m.code: m
            for m in matters
            if m.lead_department_id in self.handlers and matter_limit(m, "normal")
        }
        self._matter_tables()

    def _matter_tables(self) -> None:
        """Cumulative weights of the matters for each source and month."""
        r = self.r
        popularity = {code: r.uniform(0.2, 1.5) for code in self.matters}
        self.tables = {}
        for source, common in COMMON.items():
            base: dict[str, float] = {}
            for code, share in common.items():
                if code == "COVER":
                    covers = {c: w for c, w in COVERS.items() if c in self.matters}
                    for cover, w in covers.items():
                        base[cover] = base.get(cover, 0) + share * w / sum(covers.values())
                elif code in self.matters:
                    base[code] = base.get(code, 0) + share
            tail = {
                code: popularity[code]
                for code, m in self.matters.items()
                # The one matter not offered to people is the smoke alarms' own.
                if code not in base and m.public
            }
            rest = 100 - sum(base.values())
            for code, p in tail.items():
                base[code] = rest * p / sum(tail.values())
            for month in range(1, 13):
                weights = {}
                for code, w in base.items():
                    factors, other = SEASONS.get(code, ({}, 1.0))
                    weights[code] = w * factors.get(month, other)
                self.tables[(source, month)] = _weighted(weights)

    def make_residents(self) -> None:
        """The residents who report through the app: their accounts (full size only) and a
        home building each, most of them in town."""
        ctx, r = self.ctx, self.r
        homes_by_pk = {b.pk: b for b in ctx.buildings.values()}
        self.residents: list[tuple[int, Building]] = []
        weights: list[float] = []
        for user in sorted(ctx.users.values(), key=lambda u: u.username):
            if user.role != "resident":
                continue
            linked = Resident.objects.filter(user=user).values_list(
                "household__building_id", flat=True
            )
            home = homes_by_pk.get(next(iter(linked), None)) or self._building()
            self.residents.append((user.pk, home))
            # The demo login reports about once a month.
            weights.append(5.0)
        count = RESIDENT_ACCOUNTS[ctx.layout.size]
        taken = set(ctx.users) | set(
            User.objects.filter(username__startswith="r").values_list("username", flat=True)
        )
        accounts = []
        while len(accounts) < count:
            username = f"r{r.getrandbits(48):012x}"
            if username in taken:
                continue
            taken.add(username)
            # An unusable password ("!…"): these residents are no demo logins.
            password = "!" + "".join(r.choices(string.ascii_letters + string.digits, k=40))
            joined = self.start - r.randrange(DAY, 600 * DAY)
            accounts.append(
                User(
                    username=username,
                    role="resident",
                    name=self.fake.name(),
                    password=password,
                    date_joined=datetime.fromtimestamp(joined, UTC),
                )
            )
        made = User.objects.bulk_create(accounts, batch_size=1000)
        for user in made:
            ctx.users[user.username] = user
            self.residents.append((user.pk, self._building()))
            # A few keen reporters (a case a week at most), many who report once or twice.
            weights.append(min(20.0, r.paretovariate(1.4)))
        self.resident_keys, self.resident_weights = _weighted(dict(enumerate(weights)))
        self.resident_ids = [pk for pk, _home in self.residents]

    def make_sensors(self) -> None:
        """Networked detectors in the town's buildings, each filing its alarms."""
        r = self.r
        kinds = [k for k in SENSORS if k[0] in self.matters]
        count = SENSOR_DEVICES[self.ctx.layout.size] if kinds else 0
        self.sensors = []
        self.last_alarm: dict[str, int] = {}
        rows = []
        shares = [k[4] for k in kinds]
        for i in range(count):
            code, prefix, name, alarms, _share = r.choices(kinds, weights=shares)[0]
            building = self._building(urban=True)
            grid = self.grid_of[building.grid.code]
            lon, lat = self._near(grid, building, 0.0003)
            key = f"{r.getrandbits(128):032x}"
            device = SensorDevice(
                code=f"{prefix}-{i + 1:04d}",
                name=f"{grid[0].parent.name}{building.name}{name}",
                matter=self.matters[code],
                lon=lon,
                lat=lat,
                address=building.address,
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
                key_prefix=key[:8],
                created_at=datetime.fromtimestamp(self.start - r.randrange(DAY, 300 * DAY), UTC),
            )
            rows.append(device)
            self.sensors.append((device, grid, building, alarms))
        self.sensor_rows = rows

    # --- places -------------------------------------------------------------------------

    def _grid(self):
        key = self.r.choices(self.grid_keys, cum_weights=self.grid_weights)[0]
        return self.grids[key]

    def _building(self, urban: bool = False) -> Building:
        for _try in range(20):
            grid = self._grid()
            if not urban or grid[0].land_use in URBAN_LAND_USE:
                break
        return self.r.choice(grid[2])

    def _near(self, grid, building: Building, spread: float) -> tuple[float, float]:
        """A point around `building` inside its grid (the building itself stands inside)."""
        polygon = grid[1]
        for _try in range(8):
            lon = building.lon + self.r.gauss(0, spread * 1.25)
            lat = building.lat + self.r.gauss(0, spread)
            if shapely.contains_xy(polygon, lon, lat):
                return round(lon, 6), round(lat, 6)
        return building.lon, building.lat

    def _where(self, grid, building: Building) -> str:
        r = self.r
        community = grid[0].parent.name
        road = ROAD.search(building.address or "")
        k = r.random()
        if k < 0.45 or road is None:
            return f"{community}{building.name}{r.choice(PLACES)}"
        if k < 0.75:
            return f"{road.group(1)}{road.group(2)}{r.choice(['门前', '附近', '旁边的人行道上'])}"
        if k < 0.92:
            return f"{community}{r.choice(GATES)}"
        other = ROAD.search(r.choice(r.choice(self.grids)[2]).address or "")
        if other is None or other.group(1) == road.group(1):
            return f"{road.group(1)}{road.group(2)}附近"
        return f"{road.group(1)}与{other.group(1)}交叉口"

    # --- drawing a report ---------------------------------------------------------------

    def _day_weights(self, source: str) -> list[float]:
        weights = []
        for day in self.days:
            w = MONTH_VOLUME[day.month]
            working = workday_in(self.office.workdays, day)
            if source in ("grid_worker", "import"):
                w *= 1.0 if working else 0.0
            elif source in ("resident", "hotline") and not working:
                # Weekends bring residents out and quieten the phones; holidays both.
                weekend = day.weekday() >= 5
                w *= (1.15 if source == "resident" else 0.85) if weekend else 0.8
            weights.append(w)
        return weights

    def _time_on(self, source: str, i: int) -> int:
        """A moment on the i-th day of the year at the hours the source reports."""
        r, midnight = self.r, self.midnights[i]
        if source in ("grid_worker", "import"):
            begin = self.office.worked(midnight)
            span = self.office.worked(midnight + DAY) - begin
            return self.office.at(begin + r.uniform(60, max(span, 120) - 60))
        if source == "sensor":
            return midnight + r.randrange(DAY)
        hours = RESIDENT_HOURS_TABLE if source == "resident" else HOTLINE_HOURS_TABLE
        hour = r.choices(range(24), cum_weights=hours)[0]
        return midnight + hour * HOUR + r.randrange(HOUR)

    def report_time(self, source: str, recent: float | None = None) -> int:
        """When a report of `source` comes in: over the year by season and weekday, or
        within the last `recent` days (the backlog)."""
        r = self.r
        for _try in range(50):
            if recent is None:
                i = r.choices(range(len(self.days)), cum_weights=self.day_tables[source])[0]
            else:
                age = recent * DAY * r.random() ** 1.6
                i = bisect.bisect_right(self.midnights, self.now - age) - 1
            t = self._time_on(source, i)
            if self.start <= t < self.now - 5 * MINUTE:
                return t
        return self.now - HOUR

    def _matter(self, source: str, t: int) -> Matter:
        keys, cumulative = self.tables[(source, self._date(t).month)]
        return self.matters[self.r.choices(keys, cum_weights=cumulative)[0]]

    def _urgency(self, matter: Matter) -> str:
        table = self.urgencies.get(matter.code)
        if table is None:
            tiers = {limit.urgency for limit in matter.limits.all()}
            weights = URGENCY_BY_MATTER.get(matter.code, URGENCY)
            weights = {u: w for u, w in weights.items() if u in tiers} or {"normal": 1}
            table = self.urgencies[matter.code] = _weighted(weights)
        return self.r.choices(table[0], cum_weights=table[1])[0]

    def _describe(self, matter: Matter, grid, building: Building, source: str):
        """The report's words: (core, description, answers the words imply)."""
        r = self.r
        group = "COVER" if matter.code in COVERS else matter.code
        kind = matter.matter_class.kind
        template = r.choice(TEMPLATES.get(group) or GENERIC_TEMPLATES[kind])
        template, hints = template if isinstance(template, tuple) else (template, {})
        units = 1 if (building.floors or 1) <= 3 else r.randint(1, 3)
        road = ROAD.search(building.address or "")
        core = template.format(
            where=self._where(grid, building),
            street=f"{road.group(1)}{road.group(2)}附近" if road else f"{grid[0].name}内",
            home=f"{grid[0].parent.name}{building.name}{units}单元",
            matter=matter.name,
            n=r.randint(2, 6),
            days=r.choice(["两", "三", "好几", "四五"]),
            temp=r.randint(12, 16),
        )
        openings, closings = WORDING[source]
        return core, f"{r.choice(openings)}{core}{r.choice(closings)}", hints

    def _questions(self, matter: Matter) -> list[tuple[str, str, bool, list[str]]]:
        found = self.questions.get(matter.pk)
        if found is None:
            found = self.questions[matter.pk] = [
                (q.code, q.datatype, q.required, [o.key for o in q.options.all()])
                for q in matter.questions.all()
            ]
        return found

    def _answers(self, matter: Matter, t: int, building: Building, hints=EMPTY) -> dict:
        r = self.r
        answers: dict = {}
        for code, kind, required, keys in self._questions(matter):
            hint = hints.get(code)
            if hint is not None and set(hint if isinstance(hint, list) else [hint]) <= set(keys):
                answers[code] = hint
                continue
            if not required and r.random() < 0.5:
                continue
            if kind == "singlevaluelist" and keys:
                weights = CHOICE_WEIGHTS.get(code, {})
                answers[code] = r.choices(keys, weights=[weights.get(k, 10) for k in keys])[0]
            elif kind == "multivaluelist" and keys:
                chosen = set(r.sample(keys, min(len(keys), r.choice([1, 1, 2]))))
                answers[code] = [k for k in keys if k in chosen]
            elif kind == "number":
                high = {"households": 120, "floor": 18, "people_inside": 6}.get(code, 5)
                answers[code] = r.randint(0 if code == "people_inside" else 1, high)
            elif kind == "datetime":
                moment = datetime.fromtimestamp(t - r.randrange(HOUR, 5 * DAY), self.zone)
                answers[code] = moment.replace(second=0, tzinfo=None).isoformat()
            elif code == "building":
                answers[code] = building.name
            else:
                words = r.choice(TEXT_ANSWERS.get(code, ["见描述。"]))
                plate = "".join(r.choices(string.ascii_uppercase + string.digits, k=5))
                if words.format(plate=plate):
                    answers[code] = words.format(plate=plate)
        return answers

    def _phone(self) -> str:
        return "+86" + self.r.choice(MOBILE_PREFIXES) + f"{self.r.randrange(10**8):08d}"

    def draw(self, seq: int, recent: float | None = None, source: str | None = None) -> _Plan:
        """A new report: who, what, where and when."""
        r = self.r
        if source is None:
            keys, cumulative = self.source_table
            source = r.choices(keys, cum_weights=cumulative)[0]
        t = self.report_time(source, recent)
        reporter = None
        anonymous = False
        external_ref = contact_name = contact_phone = ""
        hints = EMPTY
        if source == "sensor":
            device, grid, building, alarms = r.choice(self.sensors)
            matter = device.matter
            lon, lat = device.lon, device.lat
            self.sensor_serial += 1
            external_ref = f"{device.code}-{self.sensor_serial:06d}"
            alarm = r.choice(alarms).format(n=r.randint(2, 6))
            core = f"{device.name}（{device.code}）报警：{alarm}。位置：{building.address}。"
            description = f"【物联感知】{core}"
            self.last_alarm[device.code] = max(self.last_alarm.get(device.code, t), t)
        else:
            matter = self._matter(source, t)
            if source == "resident":
                index = r.choices(self.resident_keys, cum_weights=self.resident_weights)[0]
                reporter, home = self.residents[index]
                building = home if r.random() < 0.85 else self._building()
                anonymous = matter.allows_anonymous and r.random() < 0.06
                spread = 0.0003
            elif source == "grid_worker":
                grid = self._grid()
                building, reporter = r.choice(grid[2]), grid[3]
                spread = 0.0009
            else:
                building, spread = self._building(), 0.0005
            grid = self.grid_of[building.grid.code]
            lon, lat = self._near(grid, building, spread)
            core, description, hints = self._describe(matter, grid, building, source)
            if source in ("hotline", "import"):
                self.serial += 1
                stamp = self._date(t).strftime("%Y%m%d")
                prefix = "" if source == "hotline" else "SZCG"
                external_ref = f"{prefix}{stamp}{self.serial:05d}"
            if source == "hotline":
                contact_name = r.choice(self.surnames) + r.choice(["先生", "女士"])
                contact_phone = self._phone()
        return _Plan(
            seq=seq,
            source=source,
            matter=matter,
            urgency=self._urgency(matter),
            grid=grid,
            building=building,
            lon=lon,
            lat=lat,
            core=core,
            description=description,
            reporter_id=reporter,
            anonymous=anonymous,
            answers=self._answers(matter, t, building, hints),
            reported=t,
            external_ref=external_ref,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )

    # --- moving a case ------------------------------------------------------------------

    def _when(self, c: _Plan, t: int) -> int:
        """`t`, at least a minute after the case's last entry; stops the case past `now`."""
        t = max(int(t), c.last + MINUTE)
        if t > self.now:
            raise _Stop
        return t

    def _move(self, c: _Plan, t, action: str, actor, note="", data=None, **changes) -> int:
        t = self._when(c, t)
        to = TRANSITIONS[(c.status, action)]
        was_running = c.status in RUNNING_STATUSES
        for name, value in changes.items():
            setattr(c, name, value)
        c.events.append((t, action, c.status, to, actor, note, action in PUBLIC_ACTIONS, data))
        c.status, c.last = to, t
        running = to in RUNNING_STATUSES
        if was_running and not running:
            c.intervals[-1][1] = t
        elif running and not was_running:
            c.intervals.append([t, None, c.deadline])
        if to == c.stall:
            raise _Stop
        return t

    def _note(self, c: _Plan, t, kind: str, actor, note="", data=None) -> int:
        t = self._when(c, t)
        public = kind in PUBLIC_NOTES
        c.events.append((t, kind, c.status, c.status, actor, note, public, data or EMPTY))
        c.last = t
        return t

    def _centre(self, t: int) -> int:
        """The street dispatcher on shift: one in the morning, the other after lunch."""
        moment = datetime.fromtimestamp(t, self.zone)
        shift = moment.toordinal() * 2 + (moment.hour >= 13)
        return self.dispatchers[shift % len(self.dispatchers)]

    def _other_department(self, but: int) -> int:
        others = sorted(d for d in self.handlers if d != but)
        return self.r.choice(others) if others else but

    def simulate(self, c: _Plan, *, plain: bool = False) -> None:
        """Move the case from its report as far as the year allows. `plain`: no rejection
        or parking (the backlog cases, which stop at their status)."""
        r = self.r
        try:
            c.last = c.reported - MINUTE
            self._move_report(c)
            reject = P_REJECT_SENSOR if c.source == "sensor" else P_REJECT
            quick = c.source in ("hotline", "sensor") or c.urgency != "normal"
            if not plain and r.random() < reject:
                t = self._office_minutes(c.last, 10, 240)
                words = REJECT_SENSOR if c.source == "sensor" else REJECT
                self._move(c, t, "reject", self._centre(t), r.choice(words))
                return
            # The centre has a duty officer for the hotline, alarms and urgent reports.
            if quick:
                t = c.last + r.randint(2, 30) * MINUTE
            else:
                t = self._office_minutes(c.last, 5, 120)
            self._move(c, t, "accept", self._centre(t), accepted_at=t)
            park = None if plain else r.random() < P_PARK and r.choice(["dispatched", "handling"])
            self._dispatch_round(c, park=park)
        except _Stop:
            pass
        finally:
            if c.intervals and c.intervals[-1][1] is None:
                c.intervals[-1][1] = self.now + 1

    def _move_report(self, c: _Plan) -> None:
        t = self._when(c, c.reported)
        data = {"source": c.source}
        c.events.append((t, "report", "", "reported", c.reporter_id, "", True, data))
        c.status, c.last = "reported", t
        if c.stall == "reported":
            raise _Stop

    def _dispatch(self, c: _Plan, department: int, t: int) -> None:
        r = self.r
        t = self._when(c, t)
        amount, unit = self._limit(c.matter, c.urgency)
        deadline = self._deadline(t, amount, unit)
        co = [self._other_department(department)] if r.random() < P_CO_HANDLER else []
        co = [d for d in co if d != department]
        data = {
            "department": self.department_codes[department],
            "co_departments": [self.department_codes[d] for d in co],
            "urgency": c.urgency,
            "deadline": self._iso(deadline),
        }
        self._move(
            c,
            t,
            "dispatch",
            self._centre(t),
            data=data,
            lead_department_id=department,
            deadline=deadline,
            dispatched_at=t,
            # Set with the move, so that a case stopped right after it keeps them.
            assignments={department: ("lead", t)} | {d: ("co_handler", t) for d in co},
        )

    def _dispatch_round(self, c: _Plan, park) -> None:
        """Dispatch (again after each send-back), then the department's work, the check
        and the rating."""
        r = self.r
        department = c.matter.lead_department_id
        sendbacks = 0
        if r.random() < P_SEND_BACK:
            sendbacks = 2 if r.random() < P_SECOND_SEND_BACK else 1
        quick = c.urgency != "normal" or c.source == "sensor"
        while True:
            if quick:
                t = c.last + r.randint(1, 10) * MINUTE
            else:
                t = self._office_minutes(c.last, 2, 60)
            self._dispatch(c, department, t)
            if not sendbacks:
                break
            sendbacks -= 1
            handler = self.handlers[c.lead_department_id]
            reason = r.choices(*SEND_BACK_WEIGHTS)[0]
            t = self._office_minutes(c.last, 10, 240)
            data = {"reason_code": reason, "department": self.department_codes[department]}
            self._move(
                c,
                t,
                "send_back",
                handler,
                r.choice(SEND_BACK[reason]),
                data,
                lead_department_id=None,
                deadline=None,
                sendback_count=c.sendback_count + 1,
                assignments={},
            )
            # The centre re-dispatches to whom it should have, or insists.
            if reason in ("not_ours", "wrong_area") and r.random() < 0.5:
                department = self._other_department(department)
        if park == "dispatched":
            self._park(c, self._office_minutes(c.last, 30, 480))
            return
        if self._work(c, park=park == "handling"):
            self._rate(c)

    def _park(self, c: _Plan, t: int) -> None:
        r = self.r
        data = {"deadline": self._iso(c.deadline) if c.deadline else None}
        t = self._move(c, t, "park", self._centre(t), r.choice(PARK), data, deadline=None)
        if r.random() >= P_RESUME:
            return
        t = self.office.add(t, r.uniform(10, 90) * 8 * HOUR)
        t = self._move(
            c,
            t,
            "resume",
            self._centre(t),
            r.choice(RESUME),
            lead_department_id=None,
            deadline=None,
            assignments={},
        )
        self._dispatch(c, c.matter.lead_department_id, self._office_minutes(t, 10, 120))
        if self._work(c, park=False):
            self._rate(c)

    def _work(self, c: _Plan, *, park: bool, extras: bool = True) -> bool:
        """Sign, start, (park,) handle and reply, then the on-site check with any rework.
        True when the case closed."""
        r = self.r
        handler = self.handlers[c.lead_department_id]
        quick = c.urgency != "normal"
        t = self._office_minutes(c.last, 2, 15) if quick else self._office_minutes(c.last, 3, 90)
        self._move(c, t, "sign", handler, signed_at=self._when(c, t))
        start = self._move(c, self._office_minutes(c.last, 1, 45), "start", handler)
        if park:
            self._park(c, self.office.add(start, r.uniform(2, 24) * HOUR))
            return False
        reply = self._handle(c, start, handler, extras)
        words = REPLIES.get("COVER" if c.matter.code in COVERS else c.matter.code, GENERIC_REPLIES)
        note = r.choice(words).format(n=r.randint(1, 4), temp2=r.randint(18, 22))
        self._move(c, reply, "reply", handler, note, replied_at=self._when(c, reply))
        worker = c.grid[3]
        t = self._office_minutes(c.last, 20, 360)
        if extras and r.random() < P_REWORK:
            note = r.choice(VERIFY_FAIL)
            rework = c.rework_count + 1
            t = self._move(c, t, "verify_fail", worker, note, rework_count=rework)
            t = self.office.add(t, r.uniform(1, 12) * HOUR)
            self._move(
                c, t, "reply", handler, r.choice(GENERIC_REPLIES), replied_at=self._when(c, t)
            )
            t = self._office_minutes(c.last, 20, 360)
        t = self._when(c, t)
        self._move(c, t, "verify_pass", worker, r.choice(VERIFY_PASS), verified_at=t, closed_at=t)
        return True

    def _handle(self, c: _Plan, start: int, handler: int, extras: bool) -> int:
        """What happens while the department works (extension, urging, the whistle), in time
        order; returns when it replies."""
        r, office = self.r, self.office
        deadline = c.deadline
        late = r.random() < P_LATE
        begin, due = office.worked(start), office.worked(deadline)
        span = max(0, due - begin)
        reply = office.at(begin + max(5 * MINUTE, span * r.betavariate(1.3, 3.0)))
        steps: list[tuple[int, str, object]] = []
        if extras and r.random() < P_EXTENSION and span > HOUR:
            asked = office.at(begin + span * r.uniform(0.2, 0.6))
            if asked < deadline:
                steps.append((asked, "extension", None))
        if extras and self.whistle_next:
            self.whistle_next = False
            blown = self._office_minutes(start, 10, 60)
            steps.append((blown, "whistle", None))
        if extras and r.random() < (P_URGE_LATE if late else P_URGE):
            if late:
                urged = office.add(deadline, r.uniform(5, 120) * MINUTE)
            else:
                urged = office.at(begin + span * r.uniform(0.5, 0.9))
            steps.append((urged, "urge", None))
        if late:
            hours = r.choice([r.uniform(0.2, 4), r.uniform(0.2, 4), r.uniform(4, 16)])
            hours = hours if r.random() > 0.1 else r.uniform(16, 64)
            reply = office.add(deadline, hours * HOUR)
        steps.sort(key=lambda s: s[0])
        latest = start
        for t, kind, _x in steps:
            if kind == "extension":
                asked = self._when(c, t)
                if asked < c.deadline:
                    reply, latest = self._extension(c, asked, handler, late)
            elif kind == "whistle":
                latest = max(latest, self._whistle(c, t))
            else:
                words = URGES_LATE if c.deadline and t > c.deadline else URGES
                latest = max(latest, self._note(c, t, "urge", self._centre(t), r.choice(words)))
        return max(reply, latest + 5 * MINUTE)

    def _extension(self, c: _Plan, t: int, handler: int, late: bool) -> tuple[int, int]:
        r, office = self.r, self.office
        t = self._when(c, t)
        amount, unit = self._limit(c.matter, c.urgency)
        amount = r.choice([2, 4, 8]) if unit == "hours" else r.choice([1, 2, 3, 5])
        ext = _Ext(
            department_id=c.lead_department_id,
            requested_by=handler,
            reason=r.choice(EXTENSION_REASONS),
            amount=amount,
            unit=unit,
            old=c.deadline,
            new=self._deadline(c.deadline, amount, unit),
            created=t,
        )
        c.extensions.append(ext)
        data = {"extension": _Ref(ext), "new_deadline": self._iso(ext.new)}
        self._note(c, t, "extension_request", handler, ext.reason, data)
        t = self._office_minutes(t, 10, 180)
        t = self._when(c, t)
        centre = self._centre(t)
        approve = r.random() < P_EXTENSION_APPROVED
        ext.note = r.choice(["", "", "同意延期。"]) if approve else r.choice(EXTENSION_REFUSALS)
        ext.status = "approved" if approve else "refused"
        ext.decided_by, ext.decided_at = centre, t
        if approve:
            data = {"extension": _Ref(ext), "deadline": self._iso(ext.new)}
            self._note(c, t, "extension_approve", centre, ext.note, data)
            # A new deadline is a new running stretch for the SLA sweep.
            c.intervals[-1][1] = t
            c.deadline = ext.new
            c.intervals.append([t, None, c.deadline])
        else:
            self._note(c, t, "extension_refuse", centre, ext.note, {"extension": _Ref(ext)})
        if late and not approve:
            reply = office.add(c.deadline, r.uniform(0.5, 16) * HOUR)
        else:
            begin = office.worked(t)
            span = max(0, office.worked(c.deadline) - begin)
            reply = office.at(begin + max(5 * MINUTE, span * r.betavariate(1.5, 2.5)))
        return reply, t

    def _whistle(self, c: _Plan, t: int) -> int:
        """吹哨报到: the centre summons two or three other departments, which report in."""
        r = self.r
        t = self._when(c, t)
        others = sorted(d for d in self.handlers if d != c.lead_department_id)
        summoned = r.sample(others, min(len(others), r.choice([2, 2, 3])))
        if not summoned:
            return t
        centre = self._centre(t)
        whistle = _Whistle(called_by=centre, note=r.choice(WHISTLES), created=t)
        c.whistles.append(whistle)
        codes = [self.department_codes[d] for d in summoned]
        self._note(
            c, t, "whistle", centre, whistle.note, {"whistle": _Ref(whistle), "departments": codes}
        )
        for department in summoned:
            if department not in c.assignments:
                c.assignments[department] = ("co_handler", t)
        # Every summoned department has its call before any reports in, so that a case
        # stopped by `now` keeps the calls still waiting.
        whistle.calls = [[d, None, None, ""] for d in summoned]
        arrivals = sorted((t + r.randint(10, 180) * MINUTE, i) for i in range(len(summoned)))
        latest = t
        for arrival, i in arrivals:
            call = whistle.calls[i]
            arrival = self._when(c, arrival)
            handler, note = self.handlers[call[0]], r.choice(REPORT_INS)
            data = {
                "whistle": _Ref(whistle),
                "department": self.department_codes[call[0]],
                "minutes": (arrival - t) // MINUTE,
            }
            latest = self._note(c, arrival, "report_in", handler, note, data)
            call[1:] = [latest, handler, note]
        return latest

    def _rate(self, c: _Plan, round_: int = 0) -> None:
        """The reporter's rating, or the centre's callback (回访); a reopen when unsatisfied;
        the archive."""
        r = self.r
        if round_ == 0 and r.random() > P_RATED:
            return
        if c.source == "resident" and c.reporter_id and r.random() < P_RESIDENT_RATES:
            rater = c.reporter_id
            t = self._awake(c.last + int(min(r.expovariate(1 / (8 * HOUR)), 4 * DAY)) + 20 * MINUTE)
        elif c.source == "grid_worker" and c.reporter_id:
            rater, t = c.reporter_id, self._office_minutes(c.last, 5, 60)
        else:
            t = self._office_minutes(c.last, 60, 16 * 60)
            rater = self._centre(t)
        keys, cumulative = SATISFACTION if round_ == 0 else SATISFACTION_AFTER_REOPEN
        satisfaction = r.choices(keys, cum_weights=cumulative)[0]
        if satisfaction == "unsatisfied":
            resolved = r.random() < 0.3
        else:
            resolved = satisfaction == "satisfied" or r.random() < 0.9
        notes = RATE_NOTES_UNSATISFIED if satisfaction == "unsatisfied" else RATE_NOTES
        note = r.choice(notes) if rater == c.reporter_id else ""
        data = {"satisfaction": satisfaction, "resolved": resolved}
        t = self._move(
            c, t, "rate", rater, note, data, satisfaction=satisfaction, resolved=resolved
        )
        if satisfaction == "unsatisfied" and round_ == 0 and r.random() < P_REOPEN:
            t = self._when(c, self._office_minutes(t, 10, 240))
            amount, unit = self._limit(c.matter, c.urgency)
            deadline = self._deadline(t, amount, unit)
            data = {"satisfaction": satisfaction, "resolved": resolved}
            data["deadline"] = self._iso(deadline)
            self._move(
                c,
                t,
                "reopen",
                self._centre(t),
                r.choice(REOPENS),
                data,
                deadline=deadline,
                dispatched_at=t,
                signed_at=None,
                replied_at=None,
                verified_at=None,
                closed_at=None,
                satisfaction=None,
                resolved=None,
                reopen_count=c.reopen_count + 1,
            )
            if self._work(c, park=False, extras=False):
                self._rate(c, round_=1)
            return
        if r.random() < P_ARCHIVED:
            t = self.office.add(t, r.uniform(2, 40) * HOUR)
            t = self._when(c, t)
            self._move(c, t, "archive", self._centre(t), archived_at=t)

    # --- followers and duplicates -------------------------------------------------------

    @staticmethod
    def _open_until(c: _Plan) -> int:
        for event in c.events:
            if event[3] not in OPEN_STATUSES:
                return event[0]
        return 2**62

    @staticmethod
    def _status_at(c: _Plan, t: int) -> str:
        status = ""
        for event in c.events:
            if event[0] <= t and event[1] in ACTIONS:
                status = event[3]
        return status

    def me_too(self, c: _Plan) -> None:
        """Residents with the same problem add their support while the case is open."""
        r = self.r
        until = min(self._open_until(c), self.now)
        if until - c.reported < HOUR:
            return
        wanted = r.choice([1, 1, 2, 3])
        drawn = r.sample(self.resident_ids, min(len(self.resident_ids), wanted + 1))
        for user in [u for u in drawn if u != c.reporter_id][:wanted]:
            t = r.randint(c.reported + 30 * MINUTE, until - 1)
            c.supports.append((user, "me_too", None, t))

    def duplicate(self, seq: int, target: _Plan) -> _Plan | None:
        """A second report of an open case nearby, merged into it by the centre."""
        r = self.r
        until = min(self._open_until(target), self.now)
        room = min(5 * DAY, until - target.reported - 3 * HOUR)
        if room < HOUR:
            return None
        t = target.reported + r.randint(20 * MINUTE, room)
        followers = {u for u, *_rest in target.supports} | {target.reporter_id}
        pool = [u for u in self.resident_ids if u not in followers]
        source = "resident" if pool and r.random() < 0.7 else "hotline"
        reporter = r.choice(pool) if source == "resident" else None
        lon, lat = self._near(target.grid, target.building, 0.0004)
        openings, closings = WORDING[source]
        c = _Plan(
            seq=seq,
            source=source,
            matter=target.matter,
            urgency=target.urgency,
            grid=target.grid,
            building=target.building,
            lon=lon,
            lat=lat,
            core=target.core,
            description=f"{r.choice(openings)}{target.core}{r.choice(closings)}",
            reporter_id=reporter,
            anonymous=False,
            # The same problem, the same answers.
            answers=dict(target.answers),
            reported=t,
        )
        if source == "hotline":
            self.serial += 1
            c.external_ref = f"{self._date(t).strftime('%Y%m%d')}{self.serial:05d}"
            c.contact_name = r.choice(self.surnames) + r.choice(["先生", "女士"])
            c.contact_phone = self._phone()
        try:
            c.last = t - MINUTE
            self._move_report(c)
            if r.random() < 0.2:
                t = self._office_minutes(c.last, 5, 60)
                self._move(c, t, "accept", self._centre(t), accepted_at=self._when(c, t))
            t = self._when(c, self._office_minutes(c.last, 10, 150))
            if t >= until:
                return None  # the case it repeats closed first: drawn again elsewhere
            note = r.choice(MERGES)
            self._move(
                c, t, "merge", self._centre(t), note, {"into": _Ref(target)}, merged_into=target
            )
            status = self._status_at(target, t)
            data = {"case": _Ref(c)}
            target.events.append(
                (t, "merged_in", status, status, self._centre(t), note, True, data)
            )
            if reporter is not None:
                target.supports.append((reporter, "merged", c, t))
        except _Stop:
            pass
        return c

    # --- the SLA sweep ------------------------------------------------------------------

    def alerts(self, c: _Plan) -> None:
        """The reminders, overdue notices and escalations a sweep every SWEEP_SECONDS would
        have taken while the case ran against each deadline (case_services.sla_sweep)."""
        office, taken = self.office, set()
        for begin, end, deadline in c.intervals:
            if deadline is None:
                continue
            due = office.worked(deadline)
            remind = max(begin + 1, office.at(due - REMIND_HOURS * HOUR), deadline - 10 * DAY)
            fifth = bisect.bisect_right(office.workdays, self._date(deadline)) + ESCALATE_DAYS - 1
            escalate = max(begin + 1, deadline + ESCALATE_DAYS * DAY)
            if fifth < len(office.workdays):
                escalate = max(escalate, self._midnight(office.workdays[fifth]))
            else:
                escalate = 2**62
            for kind, earliest, before in (
                ("remind", remind, deadline),
                ("supervise", max(begin + 1, deadline), 2**62),
                ("escalate", escalate, 2**62),
            ):
                tick = -(-earliest // SWEEP_SECONDS) * SWEEP_SECONDS
                if (kind, deadline) in taken or tick >= min(end, before):
                    continue
                taken.add((kind, deadline))
                if kind == "remind":
                    data = {"working_hours_left": round((due - office.worked(tick)) / HOUR, 1)}
                elif kind == "escalate":
                    overdue = office.working_days_between(self._date(deadline), self._date(tick))
                    data = {"working_days_overdue": overdue}
                else:
                    data = {}
                status = self._status_at(c, tick)
                c.alerts.append((kind, deadline, tick))
                c.events.append((tick, kind, status, status, None, "", False, data))

    # --- the whole year -----------------------------------------------------------------

    def plan(self) -> list[_Plan]:
        r, size = self.r, self.ctx.layout.size
        total = CASES[size]
        shares = dict(SOURCE_SHARES)
        if not self.sensors:
            shares["import"] += shares.pop("sensor")
        self.source_table = _weighted(shares)
        self.day_tables = {}
        for source in shares:
            _keys, cumulative = _weighted(dict(enumerate(self._day_weights(source))))
            self.day_tables[source] = cumulative
        stalls = {s: max(STALL_MINIMUM, round(total * share)) for s, (share, _d) in STALLS.items()}
        duplicates = round(total * DUPLICATE_SHARE)
        primaries = total - duplicates - sum(stalls.values())
        whistles = max(2, round(total * WHISTLE_SHARE))
        plans: list[_Plan] = []
        bar = self._bar(total, "cases (drawing)")
        whistle_at = set(r.sample(range(primaries), whistles))
        self.whistle_next = False
        for seq in range(primaries):
            c = self.draw(seq)
            # A whistle waits for the next case that gets as far as being handled.
            self.whistle_next = self.whistle_next or seq in whistle_at
            self.simulate(c)
            if r.random() < P_ME_TOO and c.status != "rejected":
                self.me_too(c)
            plans.append(c)
            bar.update()
        for status, count in stalls.items():
            window = STALLS[status][1]
            for _i in range(count):
                for _try in range(8):
                    c = self.draw(len(plans), recent=window)
                    c.stall = status
                    self.simulate(c, plain=True)
                    if c.status == status:
                        break
                plans.append(c)
                bar.update()
        targets = [c for c in plans[:primaries] if c.source != "sensor" and c.status != "rejected"]
        made = 0
        for _try in range(duplicates * 20):
            if made == duplicates or not targets:
                break
            c = self.duplicate(len(plans), r.choice(targets))
            if c is not None:
                plans.append(c)
                made += 1
                bar.update()
        bar.close()
        for c in plans:
            self.alerts(c)
            c.events.sort(key=lambda e: e[0])
        self.exemptions(plans)
        return plans

    def exemptions(self, plans: list[_Plan]) -> None:
        """Exemptions from the KPIs asked for closed or rejected cases, spread over the
        year, as linli.cases.exemptions would record them: asked by the centre (or, for a
        closed case, its lead department), decided by the street's leader."""
        r = self.r
        leader = self.ctx.users.get("leader")
        wanted = EXEMPTIONS[self.ctx.layout.size]
        if leader is None:
            return
        candidates = [
            c
            for c in plans
            if c.status in ("closed", "archived", "rejected")
            and c.merged_into is None
            and c.last < self.now - 5 * DAY
        ]
        chosen = sorted(r.sample(candidates, min(wanted, len(candidates))), key=lambda c: c.last)
        pending = set(chosen[len(chosen) - EXEMPTIONS_PENDING[self.ctx.layout.size] :])
        for i, c in enumerate(chosen):
            rejected = c.status == "rejected"
            reason = r.choice(EXEMPTION_REASONS_REJECTED if rejected else EXEMPTION_REASONS_CLOSED)
            try:
                t = self._when(c, self._office_minutes(c.last, 30, 3 * 8 * 60))
                handler = self.handlers.get(c.lead_department_id)
                asker = handler if handler and not rejected and r.random() < 0.5 else None
                asker = asker or self._centre(t)
                exempt = _Exempt(reason, r.choice(EXEMPTION_NOTES[reason]), asker, t)
                data = {"exemption": _Ref(exempt), "reason": reason}
                self._note(c, t, "exemption_request", asker, exempt.note, data)
                c.exemptions.append(exempt)
                if c in pending:
                    continue
                t = self._when(c, self._office_minutes(t, 60, 2 * 8 * 60))
                approve = i % EXEMPTION_REFUSED_EVERY != 1
                words = EXEMPTION_APPROVALS if approve else EXEMPTION_REFUSALS
                exempt.status = "approved" if approve else "refused"
                exempt.decided_by, exempt.decided_at = leader.pk, t
                exempt.decision_note = r.choice(words)
                kind = "exemption_approve" if approve else "exemption_refuse"
                self._note(c, t, kind, leader.pk, exempt.decision_note, dict(data))
                if approve:
                    c.exempt_reason = reason
            except _Stop:
                continue

    def _bar(self, total: int, desc: str):
        return tqdm(total=total, desc=desc, unit="case", leave=False, disable=not self.ctx.progress)

    # --- writing ------------------------------------------------------------------------

    def write(self, plans: list[_Plan]) -> None:
        """Insert in report order. Case ids are given (the next free ones, in report order)
        so that numbers are known before the rows and merges point back."""
        plans.sort(key=lambda c: (c.reported, c.seq))
        base = (Case.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        for i, c in enumerate(plans):
            c.pk = base + i
            # case_number reads only these two; a Case instance each costs seconds.
            c.number = case_number(SimpleNamespace(pk=c.pk, reported_at=_utc(c.reported)))
        for device in self.sensor_rows:
            device.last_seen_at = _utc(self.last_alarm.get(device.code))
        SensorDevice.objects.bulk_create(self.sensor_rows)
        bar = self._bar(len(plans), "cases")
        for i in range(0, len(plans), BATCH):
            chunk = plans[i : i + BATCH]
            _insert(Case, CASE_COLUMNS, (self._case_row(c) for c in chunk))
            self._write_side_rows(chunk)
            bar.update(len(chunk))
        bar.close()
        _insert(
            CaseSupport,
            ["case", "user", "kind", "from_case", "created_at"],
            (
                (c.pk, user, kind, source.pk if source else None, t)
                for c in plans
                for user, kind, source, t in _unique_supports(c)
            ),
        )
        # Explicit ids leave PostgreSQL's sequence behind; the next report takes the next id.
        statements = connection.ops.sequence_reset_sql(no_style(), [Case])
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _case_row(self, c: _Plan) -> tuple:
        phone = contact_phone_fields(c.contact_phone)
        return (
            c.pk,
            c.number,
            c.source,
            c.matter.pk,
            c.urgency,
            c.description,
            c.lon,
            c.lat,
            c.building.address,
            c.grid[0].pk,
            c.reporter_id,
            c.anonymous,
            c.status,
            c.lead_department_id,
            c.deadline,
            c.reported,
            c.accepted_at,
            c.dispatched_at,
            c.signed_at,
            c.replied_at,
            c.verified_at,
            c.closed_at,
            c.archived_at,
            c.rework_count,
            c.sendback_count,
            c.reopen_count,
            c.satisfaction,
            c.resolved,
            c.answers,
            c.external_ref,
            c.contact_name,
            phone["contact_phone_encrypted"],
            phone["contact_phone_index"],
            phone["contact_phone_masked"],
            c.merged_into.pk if c.merged_into else None,
            c.reported,
            c.last,
            self._date(c.reported),
            c.exempt_reason,
            True,
            *COUNTER_ZEROS,
        )

    def _write_side_rows(self, chunk: list[_Plan]) -> None:
        extensions = []
        whistles = []
        exemptions = []
        for c in chunk:
            for exempt in c.exemptions:
                exempt.row = Exemption(
                    case_id=c.pk,
                    reason=exempt.reason,
                    note=exempt.note,
                    requested_by_id=exempt.requested_by,
                    status=exempt.status,
                    decided_by_id=exempt.decided_by,
                    decided_at=_utc(exempt.decided_at),
                    decision_note=exempt.decision_note,
                    created_at=_utc(exempt.created),
                )
                exemptions.append(exempt.row)
            for ext in c.extensions:
                ext.row = Extension(
                    case_id=c.pk,
                    department_id=ext.department_id,
                    requested_by_id=ext.requested_by,
                    reason=ext.reason,
                    amount=ext.amount,
                    unit=ext.unit,
                    old_deadline=_utc(ext.old),
                    new_deadline=_utc(ext.new),
                    status=ext.status,
                    decided_by_id=ext.decided_by,
                    decided_at=_utc(ext.decided_at),
                    decision_note=ext.note,
                    created_at=_utc(ext.created),
                )
                extensions.append(ext.row)
            for whistle in c.whistles:
                whistle.row = Whistle(
                    case_id=c.pk,
                    called_by_id=whistle.called_by,
                    note=whistle.note,
                    created_at=_utc(whistle.created),
                )
                whistles.append(whistle)
        # Few rows, and their ids go into the timeline's data: the ORM returns them.
        Extension.objects.bulk_create(extensions)
        Exemption.objects.bulk_create(exemptions)
        Whistle.objects.bulk_create([w.row for w in whistles])
        WhistleCall.objects.bulk_create(
            WhistleCall(
                whistle=w.row,
                department_id=department,
                reported_at=_utc(at),
                reported_by_id=by,
                note=note,
            )
            for w in whistles
            for department, at, by, note in w.calls
        )
        _insert(CaseEvent, EVENT_COLUMNS, _event_rows(chunk))
        _insert(
            CaseAssignment,
            ["case", "department", "role", "created_at"],
            ((c.pk, d, role, t) for c in chunk for d, (role, t) in c.assignments.items()),
        )
        _insert(
            CaseAlert,
            ["case", "kind", "deadline", "created_at"],
            ((c.pk, kind, deadline, t) for c in chunk for kind, deadline, t in c.alerts),
        )


CASE_COLUMNS = [
    "id", "number", "source", "matter", "urgency", "description", "lon", "lat", "address",
    "grid", "reporter", "anonymous", "status", "lead_department", "deadline", "reported_at",
    "accepted_at", "dispatched_at", "signed_at", "replied_at", "verified_at", "closed_at",
    "archived_at", "rework_count", "sendback_count", "reopen_count", "satisfaction",
    "resolved", "answers", "external_ref", "contact_name", "contact_phone_encrypted",
    "contact_phone_index", "contact_phone_masked", "merged_into", "created_at", "updated_at",
    "reported_on", "exempt_reason", "tally_dirty",
]  # fmt: skip
# The KPI counters (dispatch_count …) start at zero here and are recounted from the
# timelines once every case is written (demo_cases_build).
CASE_COLUMNS += list(COUNTERS)
COUNTER_ZEROS = tuple(False if name == "was_overdue" else 0 for name in COUNTERS)
EVENT_COLUMNS = ["case", "actor", "action", "from_status", "to_status", "note", "public"]
EVENT_COLUMNS += ["data", "created_at"]


def _event_rows(chunk: list[_Plan]):
    for c in chunk:
        for t, action, from_, to, actor, note, public, data in c.events:
            if action in REF_ACTIONS:
                data = {k: v.value() if isinstance(v, _Ref) else v for k, v in data.items()}
            yield (c.pk, actor, action, from_, to, note, public, data or EMPTY, t)


def _insert(model, names: list[str], rows) -> None:
    """INSERT `rows` (tuples in the order of the field `names`; times as epoch seconds)
    with executemany, without model instances: building and compiling 400,000 of them took
    most of this step's time. Values are adapted the way the ORM adapts them, so that
    SQLite and PostgreSQL store the same as bulk_create would."""
    fields = [model._meta.get_field(name) for name in names]
    adapters: list = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            adapters.append(_moment_adapter())
        elif isinstance(f, models.DateField):
            adapters.append(connection.ops.adapt_datefield_value)
        elif isinstance(f, models.JSONField):
            adapters.append(_json_adapter(f))
        else:
            adapters.append(None)
    quote = connection.ops.quote_name
    # Table and column names come from the models' metadata, quoted; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    adapted = [(i, adapt) for i, adapt in enumerate(adapters) if adapt is not None]
    with connection.cursor() as cursor:
        batch: list[list] = []
        for row in rows:
            values = list(row)
            for i, adapt in adapted:
                values[i] = adapt(values[i])
            batch.append(values)
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


ACTIONS = {action for _status, action in TRANSITIONS} | {"report"}


def workday_in(workdays: list[date], day: date) -> bool:
    i = bisect.bisect_left(workdays, day)
    return i < len(workdays) and workdays[i] == day


def _moment_adapter():
    """Epoch seconds → what the backend stores for an aware datetime. On SQLite that is the
    UTC time as text, written here straight from the epoch when it matches what the ORM
    writes for a probe (three times faster than building each datetime)."""
    ops = connection.ops
    probe = 1_767_225_600

    def by_the_orm(t):
        return None if t is None else ops.adapt_datetimefield_value(_utc(t))

    def as_text(t):
        return None if t is None else _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(t))

    return as_text if by_the_orm(probe) == as_text(probe) else by_the_orm


def _json_adapter(f):
    """The field's own adaptation, once for the shared empty dict and the report entries'
    {"source": …} (most of the timeline's data)."""
    done = {}

    def adapt(value):
        if value is EMPTY or (len(value) == 1 and "source" in value):
            key = value.get("source")
            if key not in done:
                done[key] = f.get_db_prep_save(value, connection)
            return done[key]
        return f.get_db_prep_save(value, connection)

    return adapt


def _utc(t: int | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _unique_supports(c: _Plan):
    """Supports as case_me_too and case_merge leave them: one per user, never the reporter."""
    seen = {c.reporter_id}
    for support in sorted(c.supports, key=lambda s: s[3]):
        if support[0] not in seen:
            seen.add(support[0])
            yield support


def demo_now() -> datetime:
    """The build's `now`: settings.LINLI_DEMO_NOW (an aware datetime) when set, so that
    tests fix the year; else the start of the current hour."""
    fixed = getattr(settings, "LINLI_DEMO_NOW", None)
    if fixed is not None:
        return fixed
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def demo_cases_build(ctx: DemoContext, *, now: datetime | None = None) -> int:
    """Write a year of cases up to `now` (default demo_now()); returns how many."""
    year = _Year(ctx, now or demo_now())
    year.load()
    if not year.grids or not year.matters or not year.dispatchers:
        return 0
    year.make_residents()
    year.make_sensors()
    plans = year.plan()
    year.write(plans)
    # The KPI counters from the timelines just written, then the rollups (docs/kpis.md).
    # Imported here: the insights app sits above cases and reads them.
    from linli.insights.services import counters_recount, tally_rebuild

    counters_recount()
    tally_rebuild()
    return len(plans)


@register_demo_step
def demo_cases(ctx: DemoContext) -> None:
    """A year of cases on the demo street, as if the services had run it (see the module
    docstring); no notifications are sent for it."""
    ctx.summary["cases"] = demo_cases_build(ctx)
