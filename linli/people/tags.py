"""The key-population tags a new installation starts with (an administrator can add,
change or retire them). Visit intervals follow common practice in the seeds' street
offices: people living alone are seen weekly, other vulnerable groups monthly.
Sensitive (standards §4.1): disability, health, subsistence status, minors in
difficulty and the special populations of 综治 work."""

# code, name, category, sensitive, has grade, visit every n days
DEFAULT_TAGS = [
    ("elderly-alone", "独居老人", "老年人", False, False, 7),
    ("elderly-empty-nest", "空巢老人", "老年人", False, False, 14),
    ("elderly-80", "高龄老人", "老年人", False, False, 30),
    ("disabled", "残疾人", "残疾人", True, True, 30),
    ("dibao", "低保", "社会救助", True, False, 30),
    ("tekun", "特困", "社会救助", True, False, 14),
    ("low-income", "低收入家庭", "社会救助", True, False, 60),
    ("child-difficulty", "困境儿童", "未成年人", True, False, 14),
    ("child-left-behind", "留守儿童", "未成年人", True, False, 30),
    ("youfu", "优抚对象", "优抚", False, False, 90),
    ("veteran", "退役军人", "优抚", False, False, None),
    ("party-member", "党员", "组织", False, False, None),
    ("volunteer", "志愿者", "组织", False, False, None),
    ("chronic-illness", "慢性病患者", "健康", True, False, 30),
    ("mental-disorder", "严重精神障碍患者", "综治", True, False, 14),
    ("community-correction", "社区矫正对象", "综治", True, False, 30),
    ("released", "刑满释放人员", "综治", True, False, 30),
    ("drug-user", "社区戒毒康复人员", "综治", True, False, 30),
    ("petitioner", "重点信访人员", "综治", True, False, 30),
]
