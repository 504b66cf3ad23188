//! The personas' work cards and cloud résumés: fixed, realistic content, so that a merchant's
//! rendering of a résumé can be tested against something that looks like one.

/// A work card (工作证): what the card page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkCard {
    /// 工作证编号, shown when asked for (`has_number`).
    pub card_no: &'static str,
    /// The `job_id` the card is for (`info/query` with another `job_id`: `JOB_ID_NOT_MATCH`).
    pub job_id: &'static str,
    /// 职业
    pub job_name: &'static str,
    /// 行业
    pub profession_name: &'static str,
    /// 单位
    pub employer: &'static str,
    /// 城市
    pub city: &'static str,
    /// 从业起始 (year-month).
    pub since: &'static str,
    /// What Zhima verified (身份、学历、资格证 …).
    pub verified: &'static [&'static str],
}

/// A cloud résumé.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// `user_name`
    pub user_name: &'static str,
    /// `gender`
    pub gender: &'static str,
    /// `birthday` (yyyy-MM-dd)
    pub birthday: &'static str,
    /// `phone`, masked as Alipay shows it.
    pub phone: &'static str,
    /// `email`
    pub email: &'static str,
    /// `residential_area`
    pub residential_area: &'static str,
    /// `person_desc`
    pub person_desc: &'static str,
    /// `work_start_date` (yyyyMM)
    pub work_start_date: i64,
    /// `intention_status`
    pub intention_status: &'static str,
    /// `position_type`
    pub position_type: &'static str,
    /// `education_experiences`
    pub education: &'static [Education],
    /// `work_experiences`
    pub work: &'static [Work],
    /// `skills`
    pub skills: &'static [&'static str],
    /// `certificates`
    pub certificates: &'static [Certificate],
    /// `position_intentions`
    pub intentions: &'static [Intention],
}

/// One `education_experiences` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Education {
    /// `school_name`
    pub school_name: &'static str,
    /// `major`
    pub major: &'static str,
    /// `degree`
    pub degree: &'static str,
    /// `education_status`
    pub education_status: &'static str,
    /// `location`
    pub location: &'static str,
    /// `in_school_year`, `in_school_month`
    pub start: (i64, i64),
    /// `finish_school_year`, `finish_school_month`
    pub end: (i64, i64),
    /// `tong_zhao` (全日制统招)
    pub tong_zhao: bool,
}

/// One `work_experiences` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// `company_name`
    pub company_name: &'static str,
    /// `position_name`
    pub position_name: &'static str,
    /// `job_id`, `job_name`
    pub job: (&'static str, &'static str),
    /// `profession_id`, `profession_name`
    pub profession: (&'static str, &'static str),
    /// `work_desc`
    pub work_desc: &'static str,
    /// `work_start_time` (yyyyMM)
    pub start: i64,
    /// `work_end_time` (yyyyMM); `None`: to date.
    pub end: Option<i64>,
}

/// One `certificates` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certificate {
    /// `certificate_name`
    pub name: &'static str,
    /// `certificate_cert_level`
    pub level: &'static str,
    /// `certificate_send_card_address` (the issuing authority)
    pub issued_by: &'static str,
    /// `certificate_verify_status`
    pub verify_status: &'static str,
    /// `in_validity_period`
    pub valid: bool,
}

/// One `position_intentions` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intention {
    /// `job_id`, `job_name`
    pub job: (&'static str, &'static str),
    /// `profession_id`, `profession_name`
    pub profession: (&'static str, &'static str),
    /// `intention_city`
    pub city: &'static str,
    /// `salary_min`, `salary_max`, `salary_unit`
    pub salary: (&'static str, &'static str, &'static str),
    /// `work_property` (全职 / 兼职)
    pub work_property: &'static str,
}

const EDUCATION: (&str, &str) = ("P0011", "教育培训");
const TEACHER_JOB: (&str, &str) = ("J001101", "中学教师");

pub(crate) const WANG_CARD: WorkCard = WorkCard {
    card_no: "ZD110105202403150001",
    job_id: "J001101",
    job_name: "中学数学教师",
    profession_name: "教育培训",
    employer: "北京市朝阳区实验中学",
    city: "北京市",
    since: "2009-09",
    verified: &["实名身份", "硕士学历", "高级中学教师资格证"],
};

pub(crate) const WANG_RESUME: Resume = Resume {
    user_name: "王建国",
    gender: "男",
    birthday: "1985-03-15",
    phone: "138****1230",
    email: "wang.jianguo@example.cn",
    residential_area: "北京市朝阳区",
    person_desc: "从事中学数学教学十五年，担任年级组长，所带班级高考数学平均分连续三年位列区前三。",
    work_start_date: 200909,
    intention_status: "在职-考虑机会",
    position_type: "全职",
    education: &[
        Education {
            school_name: "北京师范大学",
            major: "数学与应用数学",
            degree: "本科",
            education_status: "毕业",
            location: "北京市",
            start: (2003, 9),
            end: (2007, 7),
            tong_zhao: true,
        },
        Education {
            school_name: "首都师范大学",
            major: "学科教学（数学）",
            degree: "硕士",
            education_status: "毕业",
            location: "北京市",
            start: (2007, 9),
            end: (2009, 7),
            tong_zhao: true,
        },
    ],
    work: &[
        Work {
            company_name: "北京市朝阳区实验中学",
            position_name: "高中数学教师、年级组长",
            job: TEACHER_JOB,
            profession: EDUCATION,
            work_desc: "负责高二、高三数学教学与教研，组织年级月考命题，指导青年教师。",
            start: 201407,
            end: None,
        },
        Work {
            company_name: "北京市第八十中学",
            position_name: "初中数学教师",
            job: TEACHER_JOB,
            profession: EDUCATION,
            work_desc: "担任初二两个班数学教学及班主任工作。",
            start: 200909,
            end: Some(201406),
        },
    ],
    skills: &["高中数学教学", "课程设计", "班级管理", "命题与阅卷"],
    certificates: &[
        Certificate {
            name: "高级中学教师资格证",
            level: "高级中学",
            issued_by: "北京市教育委员会",
            verify_status: "已核验",
            valid: true,
        },
        Certificate {
            name: "普通话水平测试等级证书",
            level: "二级甲等",
            issued_by: "国家语言文字工作委员会",
            verify_status: "已核验",
            valid: true,
        },
    ],
    intentions: &[Intention {
        job: TEACHER_JOB,
        profession: EDUCATION,
        city: "北京市",
        salary: ("15000", "25000", "元/月"),
        work_property: "全职",
    }],
};

pub(crate) const LI_CARD: WorkCard = WorkCard {
    card_no: "ZD310104202307220002",
    job_id: "J001305",
    job_name: "课程顾问",
    profession_name: "教育培训",
    employer: "上海启明教育科技有限公司",
    city: "上海市",
    since: "2013-07",
    verified: &["实名身份", "本科学历"],
};

pub(crate) const LI_RESUME: Resume = Resume {
    user_name: "李晓梅",
    gender: "女",
    birthday: "1990-07-22",
    phone: "139****2349",
    email: "li.xiaomei@example.cn",
    residential_area: "上海市徐汇区",
    person_desc: "教培行业课程顾问，熟悉K12课程体系与家长沟通，正在准备教师资格考试。",
    work_start_date: 201307,
    intention_status: "离职-随时到岗",
    position_type: "全职",
    education: &[Education {
        school_name: "华东师范大学",
        major: "汉语言文学",
        degree: "本科",
        education_status: "毕业",
        location: "上海市",
        start: (2009, 9),
        end: (2013, 6),
        tong_zhao: true,
    }],
    work: &[Work {
        company_name: "上海启明教育科技有限公司",
        position_name: "课程顾问",
        job: ("J001305", "课程顾问"),
        profession: EDUCATION,
        work_desc: "负责初中语文课程咨询与续费，月均签约四十余单。",
        start: 201307,
        end: Some(202512),
    }],
    skills: &["课程咨询", "客户沟通", "公文写作"],
    certificates: &[],
    intentions: &[
        Intention {
            job: ("J001102", "小学教师"),
            profession: EDUCATION,
            city: "上海市",
            salary: ("8000", "12000", "元/月"),
            work_property: "全职",
        },
        Intention {
            job: ("J001305", "课程顾问"),
            profession: EDUCATION,
            city: "上海市",
            salary: ("200", "300", "元/天"),
            work_property: "兼职",
        },
    ],
};

pub(crate) const ZHANG_CARD: WorkCard = WorkCard {
    card_no: "ZD440305202401010003",
    job_id: "J001102",
    job_name: "小学英语教师",
    profession_name: "教育培训",
    employer: "深圳市南山区第二外国语学校",
    city: "深圳市",
    since: "2011-09",
    verified: &["实名身份", "本科学历"],
};

pub(crate) const ZHANG_RESUME: Resume = Resume {
    user_name: "张伟",
    gender: "男",
    birthday: "1988-01-01",
    phone: "137****3458",
    email: "zhang.wei@example.cn",
    residential_area: "广东省深圳市南山区",
    person_desc: "小学英语教师，擅长情景教学与英语绘本阅读，教师资格证核验中。",
    work_start_date: 201109,
    intention_status: "在职-暂不考虑",
    position_type: "全职",
    education: &[Education {
        school_name: "华南师范大学",
        major: "英语（师范）",
        degree: "本科",
        education_status: "毕业",
        location: "广州市",
        start: (2007, 9),
        end: (2011, 6),
        tong_zhao: true,
    }],
    work: &[Work {
        company_name: "深圳市南山区第二外国语学校",
        position_name: "小学英语教师",
        job: ("J001102", "小学教师"),
        profession: EDUCATION,
        work_desc: "担任三至五年级英语教学，负责校英语节活动策划。",
        start: 201109,
        end: None,
    }],
    skills: &["小学英语教学", "英语绘本阅读", "活动策划"],
    certificates: &[Certificate {
        name: "小学教师资格证",
        level: "小学",
        issued_by: "广东省教育厅",
        verify_status: "核验中",
        valid: true,
    }],
    intentions: &[Intention {
        job: ("J001102", "小学教师"),
        profession: EDUCATION,
        city: "深圳市",
        salary: ("12000", "18000", "元/月"),
        work_property: "全职",
    }],
};

pub(crate) const ZHAO_CARD: WorkCard = WorkCard {
    card_no: "ZD510107202211110004",
    job_id: "J002201",
    job_name: "餐饮服务员",
    profession_name: "餐饮",
    employer: "成都蜀味餐饮管理有限公司",
    city: "成都市",
    since: "2015-03",
    verified: &["实名身份"],
};

pub(crate) const ZHAO_RESUME: Resume = Resume {
    user_name: "赵丽",
    gender: "女",
    birthday: "1992-11-11",
    phone: "135****4560",
    email: "zhao.li@example.cn",
    residential_area: "四川省成都市武侯区",
    person_desc: "餐饮服务八年，熟悉前厅管理与收银。",
    work_start_date: 201503,
    intention_status: "离职-随时到岗",
    position_type: "全职",
    education: &[Education {
        school_name: "成都市财贸职业高级中学",
        major: "中餐烹饪与营养膳食",
        degree: "中专",
        education_status: "毕业",
        location: "成都市",
        start: (2008, 9),
        end: (2011, 6),
        tong_zhao: false,
    }],
    work: &[Work {
        company_name: "成都蜀味餐饮管理有限公司",
        position_name: "前厅领班",
        job: ("J002201", "餐饮服务员"),
        profession: ("P0022", "餐饮"),
        work_desc: "负责前厅排班、收银对账与顾客投诉处理。",
        start: 201503,
        end: Some(202508),
    }],
    skills: &["前厅管理", "收银"],
    certificates: &[Certificate {
        name: "食品从业人员健康证明",
        level: "",
        issued_by: "成都市武侯区疾病预防控制中心",
        verify_status: "已核验",
        valid: false,
    }],
    intentions: &[Intention {
        job: ("J002201", "餐饮服务员"),
        profession: ("P0022", "餐饮"),
        city: "成都市",
        salary: ("4500", "6000", "元/月"),
        work_property: "全职",
    }],
};

pub(crate) const ZHOU_CARD: WorkCard = WorkCard {
    card_no: "ZD320102202002290005",
    job_id: "J003101",
    job_name: "网约车司机",
    profession_name: "交通运输",
    employer: "个体经营",
    city: "南京市",
    since: "2018-05",
    verified: &["实名身份", "机动车驾驶证"],
};

pub(crate) const ZHOU_RESUME: Resume = Resume {
    user_name: "周强",
    gender: "男",
    birthday: "1980-02-29",
    phone: "136****7899",
    email: "zhou.qiang@example.cn",
    residential_area: "江苏省南京市玄武区",
    person_desc: "驾龄二十年，无重大事故记录，熟悉南京城区道路。",
    work_start_date: 200107,
    intention_status: "在职-考虑机会",
    position_type: "兼职",
    education: &[Education {
        school_name: "南京市第一中学",
        major: "",
        degree: "高中",
        education_status: "毕业",
        location: "南京市",
        start: (1995, 9),
        end: (1998, 7),
        tong_zhao: false,
    }],
    work: &[Work {
        company_name: "个体经营",
        position_name: "网约车司机",
        job: ("J003101", "网约车司机"),
        profession: ("P0031", "交通运输"),
        work_desc: "全职网约车运营，月均完成订单六百余单，服务评分4.9。",
        start: 201805,
        end: None,
    }],
    skills: &["C1驾驶", "城市道路熟悉"],
    certificates: &[Certificate {
        name: "网络预约出租汽车驾驶员证",
        level: "",
        issued_by: "南京市交通运输局",
        verify_status: "已核验",
        valid: true,
    }],
    intentions: &[Intention {
        job: ("J003102", "货运司机"),
        profession: ("P0031", "交通运输"),
        city: "南京市",
        salary: ("7000", "10000", "元/月"),
        work_property: "全职",
    }],
};
