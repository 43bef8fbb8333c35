// Gulf names as people write them in Arabic, each with the Latin spelling their email address uses.
// The Arabic spellings deliberately carry hamza forms (أحمد, إبراهيم, آمنة), taa marbuta (فاطمة) and
// alef maqsura (مصطفى, ليلى): the letters search must fold (API.md §2), so `q` can be tried on them.

export interface PairedName { ar: string; latin: string }

const pairs = (list: string): PairedName[] =>
  list.trim().split(/\s*,\s*/).map((p) => {
    const [ar = '', latin = ''] = p.split(':');
    return { ar, latin };
  });

export const ARABIC_MALE_NAMES = pairs(`
  محمد:mohammed, أحمد:ahmed, عبدالله:abdullah, خالد:khalid, فهد:fahad, سلطان:sultan, فيصل:faisal,
  عبدالرحمن:abdulrahman, سعود:saud, تركي:turki, ناصر:nasser, يوسف:yousef, إبراهيم:ibrahim, عمر:omar,
  علي:ali, حمد:hamad, راشد:rashid, سالم:salem, مصطفى:mustafa, عيسى:issa, ماجد:majed, بندر:bandar,
  طلال:talal, زياد:ziyad, أنس:anas, إياد:iyad, مشعل:mishal, نواف:nawaf, وليد:waleed, حسن:hassan,
  جاسم:jassim, مبارك:mubarak, منصور:mansour, هشام:hisham, ياسر:yasser, عادل:adel, إسماعيل:ismail, آدم:adam
`);

export const ARABIC_FEMALE_NAMES = pairs(`
  فاطمة:fatimah, عائشة:aisha, مريم:maryam, نورة:noura, سارة:sarah, ليلى:layla, هند:hind, ريم:reem,
  أمل:amal, آمنة:amna, إيمان:iman, لطيفة:latifa, منى:mona, هيفاء:haifa, شيخة:shaikha, دانة:dana,
  جواهر:jawaher, العنود:alanoud, رنا:rana, لمى:lama, أسماء:asmaa, خلود:kholoud, وعد:waad, سلمى:salma,
  رهف:rahaf, بشرى:bushra, حصة:hessa, نجلاء:najla
`);

export const ARABIC_FAMILY_NAMES = pairs(`
  العتيبي:alotaibi, القحطاني:alqahtani, الغامدي:alghamdi, الزهراني:alzahrani, الشمري:alshammari,
  الدوسري:aldosari, المطيري:almutairi, الحربي:alharbi, العنزي:alanazi, السبيعي:alsubaie,
  المنصوري:almansoori, الكعبي:alkaabi, الظاهري:aldhaheri, النعيمي:alnuaimi, الهاشمي:alhashimi,
  الصباح:alsabah, العجمي:alajmi, الرشيدي:alrashidi, الكندري:alkandari, الخالدي:alkhalidi,
  آل سعود:alsaud, الأنصاري:alansari, الإدريسي:alidrisi, البلوشي:albalushi, الفارسي:alfarsi,
  الحمادي:alhammadi, المهيري:almheiri, الفلاسي:alfalasi, الشامسي:alshamsi, بن لادن:binladen
`);

/** Arabic words companies are named with, and the Latin word their web domains use. */
export const ARABIC_COMPANY_KINDS = pairs(`
  للتجارة:trading, للمقاولات:contracting, للاستثمار:investment, للتقنية:tech, للأغذية:foods,
  للخدمات اللوجستية:logistics, للعقارات:realestate, للسيارات:motors, للطاقة:energy, للاتصالات:telecom
`);
