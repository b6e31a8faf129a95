"""Synthetic but realistic inputs for the benchmarks, reproducible from a seed.

* :func:`write_articles`: scraped pages as JSON lines (``id``, ``url``, ``text``), about 3 KB
  each. Every page is built on the chrome of one of the hand-made fixture pages in
  ``tests/fixtures/clean/*.txt`` (menus, site names, datelines, bylines, ``ADVERTISEMENT``,
  "Baca juga" links, tags, related headlines, copyright lines, in the places that site puts
  them), with a new headline, a new date and a new body of Indonesian or English prose with
  named entities, curly quotes, NBSP, emoji, and now and then mojibake. About 8% of the pages
  republish an earlier story with edits (new headline, one paragraph dropped or reworded) on
  another site, 2% repeat an earlier story word for word under other chrome, 1.5% are too
  short to keep.
* :func:`write_export`: a Label Studio JSON export with 2-3 annotations per task, shaped like
  the export of Label Studio 1.23.2 (every key of a task, annotation and prediction as the
  server writes them): entities with a per-region stance, claims with verdict, checkworthiness
  and a ``claimed_by`` relation, the document stance when the task has a target, a gazetteer
  prediction; annotators agree mostly and disagree sometimes; now and then an annotation is
  skipped, marked ground truth, or has a span with offsets in UTF-16 units or simply wrong.
* :func:`task_articles`: articles (``id``, ``text``, ``title``, ...) for ``toolkit push``.

Everything is written in one pass, a record at a time; nothing here grows with the size.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "clean"

ID_WORDS = """
yang dan di itu dengan untuk tidak ini dari dalam akan pada juga ke karena tersebut bisa ada
mereka lebih sudah atau oleh telah menjadi masih hingga setelah namun bahwa saat para secara
sebagai antara pemerintah presiden menteri rakyat warga kota daerah provinsi kebijakan ekonomi
harga pasar pemilu partai calon kampanye suara polisi pelaku korban kasus hukum pengadilan tahun
bulan hari pekan pagi malam rumah jalan sekolah siswa guru kesehatan dokter pasien program
anggaran dana miliar juta rupiah persen naik turun meningkat menurun menyatakan mengatakan
menjelaskan menurut melakukan membuat memberikan meminta menerima menunjukkan mengalami berhasil
terjadi dilakukan diharapkan sejumlah berbagai seluruh baru besar kecil penting utama nasional
internasional masyarakat pihak upaya kegiatan pembangunan proyek infrastruktur listrik air
banjir gempa bencana bantuan petugas lokasi wilayah kawasan desa kabupaten data laporan hasil
survei penelitian teknologi digital internet media sosial perusahaan industri produksi ekspor
impor investasi bank kredit pajak inflasi pertumbuhan pekerja buruh upah pangan beras minyak
bahan bakar kendaraan transportasi kereta bandara pelabuhan kapal pesawat penumpang wisata
budaya agama pendidikan mahasiswa kampus negara dunia luar negeri dalam negeri keamanan militer
tentara perbatasan kerja sama perjanjian pertemuan rapat sidang keputusan aturan undang-undang
""".split()
EN_WORDS = """
the of and to in a that for on with said was is by as at from it has have be are were will
would could government minister president officials people city region province policy economy
prices market election party candidate campaign votes police suspect victims case law court
year month week morning night house street school students teachers health hospital doctors
patients program budget funds billion million percent rose fell increased decreased announced
explained according carried made gave asked received showed experienced succeeded happened
expected several various all new large small important main national international local
community efforts activities development project infrastructure electricity water floods
earthquake disaster aid workers location area village district data report results survey
research technology digital internet media social company industry production exports imports
investment bank credit tax inflation growth labour wages food rice oil fuel vehicles transport
train airport port ship aircraft passengers tourism culture religion education university
country world foreign domestic security military troops border cooperation agreement meeting
session decision rules legislation voters analysts residents authorities spokesman statement
""".split()
PEOPLE = [
    "Joko Widodo", "Prabowo Subianto", "Anies Baswedan", "Sri Mulyani", "Elon Musk",
    "Donald Trump", "Kamala Harris", "Joe Biden", "Ganjar Pranowo", "Ridwan Kamil",
    "Erick Thohir", "Retno Marsudi", "Budi Gunadi Sadikin", "Luhut Pandjaitan", "Anwar Ibrahim",
]  # fmt: skip
ORGS = [
    "Bank Indonesia", "Komisi Pemilihan Umum", "Partai Demokrat", "Pertamina", "AFP", "Reuters",
    "Kementerian Keuangan", "Bawaslu", "World Bank", "Federal Reserve", "Garuda Indonesia",
]  # fmt: skip
PLACES = [
    "Jakarta", "Surabaya", "Bandung", "Medan", "Makassar", "Yogyakarta", "Bali", "Papua",
    "Amerika Serikat", "Singapura", "Malaysia", "Washington", "Kalimantan Timur", "Semarang",
]  # fmt: skip
NORPS = ["Republik", "Demokrat", "Muslim", "Jawa", "Tionghoa"]
EVENTS = ["Pemilu 2024", "KTT ASEAN", "Piala Dunia", "Asian Games"]
PRODUCTS = ["X", "Twitter", "iPhone", "TikTok", "WhatsApp", "Instagram"]
ENTITY_POOL = (
    [(n, "PER") for n in PEOPLE]
    + [(n, "ORG") for n in ORGS]
    + [(n, "LOC") for n in PLACES]
    + [(n, "NORP") for n in NORPS]
    + [(n, "EVENT") for n in EVENTS]
    + [(n, "PRODUCT") for n in PRODUCTS]
)
SAY = {"id": ["kata", "ujar", "ungkap", "jelas", "tutur"], "en": ["said", "told reporters"]}
EMOJI = ["🙏", "😭", "🚀", "👍", "🇮🇩"]
HOSTS = {
    "aljazeera": "www.aljazeera.com", "antaranews": "www.antaranews.com",
    "apnews": "apnews.com", "beritaharian": "www.beritaharian.sg",
    "cnbcindonesia": "www.cnbcindonesia.com", "cnnindonesia": "www.cnnindonesia.com",
    "detik": "news.detik.com", "guardian": "www.theguardian.com",
    "jakartapost": "www.thejakartapost.com", "kompas": "nasional.kompas.com",
    "kumparan": "kumparan.com", "republika": "news.republika.co.id",
    "reuters": "www.reuters.com", "tempo": "nasional.tempo.co",
}  # fmt: skip
_DAY = re.compile(r"\b(\d{1,2})(\s+(?:[A-Z][a-z]+\.?|[a-z]{3})\s+20\d\d)")
_HHMM = re.compile(r"\b([01]?\d|2[0-3])([:.])([0-5]\d)\b(\s*[AaPp]\.?[Mm]\b)?")
_MONTH_DAY = re.compile(
    r"\b((?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December) )(\d{1,2})\b"
)


# -- prose -------------------------------------------------------------------------------------


@dataclass
class Para:
    """A paragraph and its entity mentions (offsets into ``text``) and claim sentences."""

    text: str
    mentions: list[tuple[int, int, str, str]] = field(
        default_factory=list
    )  # start, end, text, label
    claims: list[tuple[int, int]] = field(default_factory=list)


def _sentence(rng: random.Random, lang: str, para: Para) -> None:
    words = ID_WORDS if lang == "id" else EN_WORDS
    tokens: list[tuple[str, str | None]] = [
        (w, None) for w in rng.choices(words, k=rng.randint(9, 22))
    ]
    tokens[0] = (tokens[0][0].capitalize(), None)
    for _ in range(rng.choice((0, 1, 1, 2))):
        tokens.insert(rng.randint(1, len(tokens)), rng.choice(ENTITY_POOL))
    comma = rng.random() < 0.3
    quoted = rng.random() < 0.12
    prefix = para.text + (" " if para.text else "")
    cursor = len(prefix) + (1 if quoted else 0)
    begin, parts, found = cursor, [], []
    for k, (word, label) in enumerate(tokens):
        sep = "" if k == 0 else (", " if comma and k == 1 else " ")
        cursor += len(sep)
        if label:
            found.append((cursor, cursor + len(word), word, label))
        parts.append(sep + word)
        cursor += len(word)
    body = "".join(parts)
    if quoted:
        speaker = rng.choice(PEOPLE)
        tail = f",” {rng.choice(SAY[lang])} "
        sentence = f"“{body}{tail}{speaker}."
        at = cursor + len(tail)
        found.append((at, at + len(speaker), speaker, "PER"))
    else:
        sentence = body + (rng.choice(EMOJI) if rng.random() < 0.01 else "") + "."
    para.text = prefix + sentence
    para.mentions += found
    if rng.random() < 0.2:  # a checkable assertion: the clause without the attribution
        para.claims.append((begin, cursor))


def paragraph(rng: random.Random, lang: str) -> Para:
    para = Para("")
    for _ in range(rng.randint(1, 3)):
        _sentence(rng, lang, para)
    return para


def headline(rng: random.Random, lang: str) -> str:
    words = ID_WORDS if lang == "id" else EN_WORDS
    name = rng.choice(ENTITY_POOL)[0]
    tokens = [w.capitalize() for w in rng.choices(words, k=rng.randint(5, 10))]
    tokens.insert(rng.randint(0, len(tokens)), name)
    return " ".join(tokens)


# -- scraped pages -----------------------------------------------------------------------------


@dataclass
class Template:
    """A fixture page cut into chrome lines, the title slot and body slots."""

    site: str
    lang: str
    head: list[str]  # chrome before the title, "\x00T" marks the title line
    inner: list[str]  # chrome lines found between body paragraphs
    tail: list[str]  # chrome after the body


def load_templates() -> list[Template]:
    from toolkit.clean.normalize import normalize_text

    out = []
    for page in sorted(FIXTURES.glob("*.txt")):
        expected = json.loads((FIXTURES / f"{page.stem}.expected.json").read_text("utf-8"))
        paras = set(expected["paragraphs"])
        lines = page.read_text(encoding="utf-8").split("\n")
        norm = [normalize_text(line) for line in lines]
        body = [i for i, line in enumerate(norm) if line in paras]
        if not body:
            continue
        first, last = body[0], body[-1]
        head = ["\x00T" if norm[i] == expected["title"] else lines[i] for i in range(first)]
        inner = [lines[i] for i in range(first, last + 1) if i not in body and norm[i]]
        tail = lines[last + 1 :]
        lang = "en" if expected["language"] == "en" else "id"
        out.append(Template(page.stem, lang, head, inner, tail))
    return out


def _redate(line: str, rng: random.Random) -> str:
    line = _DAY.sub(lambda m: f"{rng.randint(1, 28)}{m[2]}", line)
    line = _MONTH_DAY.sub(lambda m: f"{m[1]}{rng.randint(1, 28)}", line)

    def clock(m: re.Match[str]) -> str:
        if m[4]:  # 12-hour clock
            return f"{rng.randint(1, 12)}{m[2]}{rng.randint(0, 59):02d}{m[4]}"
        return f"{rng.randint(0, 23):02d}{m[2]}{rng.randint(0, 59):02d}"

    return _HHMM.sub(clock, line)


def _mojibake(text: str) -> str:
    """UTF-8 read as Windows-1252 (what ftfy repairs), for quotes and dashes."""
    return text.replace("“", "â€œ").replace("”", "â€\x9d").replace("—", "â€”")


def render_page(rng: random.Random, tpl: Template, title: str, paras: list[str]) -> str:
    """One scraped page: the template's chrome around a new title and body."""
    lines = [title if line == "\x00T" else _redate(line, rng) for line in tpl.head]
    if "\x00T" not in tpl.head:
        lines.append(title)
    slots = sorted(rng.sample(range(1, len(paras)), min(len(tpl.inner), len(paras) - 1)))
    inner = list(tpl.inner)
    for i, para in enumerate(paras):
        if slots and slots[0] == i and inner:
            lines.append(inner.pop(0))
            slots.pop(0)
        if rng.random() < 0.02:
            para = para.replace(" ", "\u00a0", 3)
        lines.append(para)
    lines.extend(_redate(line, rng) for line in tpl.tail)
    text = "\n".join(lines)
    if rng.random() < 0.01:
        text = _mojibake(text)
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n")
    return text


def _story(rng: random.Random, lang: str) -> tuple[str, list[str]]:
    return headline(rng, lang), [paragraph(rng, lang).text for _ in range(rng.randint(5, 11))]


def _republish(rng: random.Random, story: tuple[str, list[str]]) -> tuple[str, list[str]]:
    """The same story with edits: often a new headline, one paragraph dropped or changed."""
    title, paras = story
    paras = list(paras)
    edit = rng.random()
    if edit < 0.4 and len(paras) > 6:
        paras.pop(rng.randrange(1, len(paras)))
    elif edit < 0.8:
        i = rng.randrange(len(paras))
        words = paras[i].split(" ")
        j = rng.randrange(len(words))
        words[j] = words[j] + " " + ("juga" if rng.random() < 0.5 else "also")
        paras[i] = " ".join(words)
    if rng.random() < 0.6:
        title = title + " " + rng.choice(["Update", "Terbaru", "(Video)", "- Analysis"])
    return title, paras


def iter_pages(n: int, seed: int = 1) -> Iterator[dict]:
    """``n`` scraped-page records (``id``, ``url``, ``text``)."""
    rng = random.Random(seed)
    templates = load_templates()
    recent: list[tuple[str, list[str], str]] = []
    for i in range(n):
        tpl = rng.choice(templates)
        roll = rng.random()
        if roll < 0.10 and recent:
            title, paras, lang = rng.choice(recent)
            if roll < 0.02:  # word for word under other chrome
                story = (title, paras)
            else:
                story = _republish(rng, (title, paras))
            tpl = rng.choice([t for t in templates if t.lang == lang] or templates)
        elif roll < 0.115:
            story = (headline(rng, tpl.lang), [paragraph(rng, tpl.lang).text])  # too short
            story = (story[0], [" ".join(story[1][0].split()[:8]) + "."])
        else:
            story = _story(rng, tpl.lang)
            recent.append((*story, tpl.lang))
            if len(recent) > 2000:
                recent.pop(rng.randrange(len(recent)))
        slug = "-".join(story[0].lower().split()[:6])
        url = f"https://{HOSTS.get(tpl.site, tpl.site + '.com')}/read/{i}/{slug}"
        yield {"id": f"doc-{i}", "url": url, "text": render_page(rng, tpl, *story)}


def write_articles(path: Path, n: int, seed: int = 1) -> int:
    """Write ``n`` scraped pages as JSON lines; returns the byte size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in iter_pages(n, seed):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path.stat().st_size


# -- clean articles and Label Studio exports ---------------------------------------------------


@dataclass
class Article:
    id: str
    text: str
    title: str
    lang: str
    mentions: list[tuple[int, int, str, str]]
    claims: list[tuple[int, int]]
    target: str | None


def iter_articles(n: int, seed: int = 2) -> Iterator[Article]:
    """Clean articles (paragraphs joined by a blank line) with their entity mentions."""
    rng = random.Random(seed)
    for i in range(n):
        lang = "id" if rng.random() < 0.6 else "en"
        parts, mentions, claims, text = [], [], [], ""
        for _ in range(rng.randint(4, 9)):
            para = paragraph(rng, lang)
            base = len(text) + (2 if text else 0)
            text = f"{text}\n\n{para.text}" if text else para.text
            mentions += [(s + base, e + base, t, lab) for s, e, t, lab in para.mentions]
            claims += [(s + base, e + base) for s, e in para.claims]
            parts.append(para)
        target = rng.choice(PEOPLE) if rng.random() < 0.5 else None
        yield Article(f"a_{i:012x}", text, headline(rng, lang), lang, mentions, claims, target)


def task_articles(n: int, seed: int = 2) -> Iterator[dict]:
    """Articles as ``toolkit push`` reads them."""
    for art in iter_articles(n, seed):
        row = {"id": art.id, "text": art.text, "title": art.title, "language": art.lang}
        if art.target:
            row["target"] = art.target
        yield row


_STANCES = ["FAVOR", "AGAINST", "NEUTRAL"]
_VERDICTS = ["SUPPORTED", "REFUTED", "MISLEADING", "UNVERIFIABLE"]
_WORTHY = ["CHECKWORTHY", "NOT_CHECKWORTHY"]
_DOC = ["FAVOR", "AGAINST", "NONE"]
EPOCH = datetime(2025, 3, 1, tzinfo=timezone.utc)


def _ts(rng: random.Random, base: datetime) -> str:
    return (base + timedelta(seconds=rng.uniform(0, 3600))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _span(rid: str, group: str, s: int, e: int, text: str, label: str) -> dict:
    value = {"start": s, "end": e, "text": text[s:e], "labels": [label]}
    return {"id": rid, "from_name": group, "to_name": "text", "type": "labels", "value": value}


def _choice(rid: str, name: str, value: dict, choice: str) -> dict:
    return {
        "id": rid,
        "from_name": name,
        "to_name": "text",
        "type": "choices",
        "value": {**{k: v for k, v in value.items() if k != "labels"}, "choices": [choice]},
    }


def _utf16(text: str, i: int) -> int:
    return i + sum(1 for c in text[:i] if ord(c) > 0xFFFF)


def _result(rng: random.Random, art: Article, plan: dict, quirk: str | None) -> list[dict]:
    """One annotator's result: the task's planned labels with personal deviations."""
    out: list[dict] = []
    ent_ids = []
    for k, (s, e, _name, label, stance) in enumerate(plan["entities"]):
        if rng.random() < 0.08:
            continue  # missed
        if rng.random() < 0.05:
            label = rng.choice(["PER", "ORG", "LOC", "NORP"])
        if rng.random() < 0.12:
            stance = rng.choice(_STANCES)
        rid = f"e{k}"
        item = _span(rid, "entities", s, e, art.text, label)
        if quirk == "utf16" and any(ord(c) > 0xFFFF for c in art.text[:s]):
            item["value"]["start"], item["value"]["end"] = _utf16(art.text, s), _utf16(art.text, e)
        out.append(item)
        out.append(_choice(rid, "entities_stance", item["value"], stance))
        ent_ids.append(rid)
    for k, (s, e, verdict, worthy) in enumerate(plan["claims"]):
        if rng.random() < 0.1:
            continue
        rid = f"c{k}"
        item = _span(rid, "claims", s, e, art.text, "CLAIM")
        out.append(item)
        out.append(_choice(rid, "claims_verdict", item["value"], verdict))
        out.append(_choice(rid, "claims_checkworthy", item["value"], worthy))
        if ent_ids and rng.random() < 0.6:
            out.append(
                {
                    "from_id": rid,
                    "to_id": rng.choice(ent_ids),
                    "type": "relation",
                    "direction": "right",
                    "labels": ["claimed_by"],
                }
            )
    if art.target:
        doc = plan["stance"] if rng.random() < 0.8 else rng.choice(_DOC)
        out.append(_choice("stance", "stance", {}, doc))
    if quirk == "bad" and out:
        bad = next((r for r in out if r.get("type") == "labels"), None)
        if bad:
            bad["value"] = {**bad["value"], "start": bad["value"]["start"] + 3}
    return out


def _prediction(rng: random.Random, task_id: int, art: Article, plan: dict, base: datetime) -> dict:
    result = [
        _span(f"p{k}", "entities", s, e, art.text, label)
        for k, (s, e, _n, label, _st) in enumerate(plan["entities"])
        if rng.random() < 0.7
    ]
    ts = _ts(rng, base)
    return {
        "id": task_id,
        "result": result,
        "model_version": "gazetteer-news@3f2a9c1b",
        "created_ago": "2\u00a0weeks",
        "score": None,
        "cluster": None,
        "neighbors": None,
        "mislabeling": 0.0,
        "created_at": ts,
        "updated_at": ts,
        "model": None,
        "model_run": None,
        "task": task_id,
        "project": 1,
    }


def iter_export_tasks(
    n: int, seed: int = 3, schema_tag: str = "news@000000000000"
) -> Iterator[dict]:
    """Label Studio 1.23 JSON-export tasks with 2-3 annotations each."""
    rng = random.Random(seed)
    ann_id = 0
    for task_id, art in enumerate(iter_articles(n, seed), 1):
        mentions = art.mentions
        if len(mentions) > 6:
            mentions = sorted(rng.sample(mentions, 6))
        plan = {
            "entities": [(s, e, t, lab, rng.choice(_STANCES)) for s, e, t, lab in mentions],
            "claims": [
                (s, e, rng.choice(_VERDICTS), rng.choice(_WORTHY))
                for s, e in art.claims[: rng.randint(0, 2)]
            ],
            "stance": rng.choice(_DOC),
        }
        base = EPOCH + timedelta(minutes=task_id)
        prediction = _prediction(rng, task_id, art, plan, base) if rng.random() < 0.5 else None
        annotations = []
        for k in range(rng.choice((2, 3))):
            ann_id += 1
            roll = rng.random()
            quirk = "bad" if roll < 0.005 else "utf16" if roll < 0.03 else None
            skipped = rng.random() < 0.02
            result = [] if skipped else _result(rng, art, plan, quirk)
            created = _ts(rng, base + timedelta(hours=k))
            annotations.append(
                {
                    "id": ann_id,
                    "completed_by": rng.randint(2, 21),
                    "result": result,
                    "was_cancelled": skipped,
                    "ground_truth": not skipped and rng.random() < 0.01,
                    "created_at": created,
                    "updated_at": created,
                    "draft_created_at": None,
                    "lead_time": round(rng.uniform(20, 600), 3),
                    "prediction": prediction or {},
                    "result_count": sum(r.get("type") == "labels" for r in result),
                    "unique_id": f"{hashlib.md5(str(ann_id).encode()).hexdigest()[:8]}-"
                    f"52f8-41fb-b63a-{ann_id:012d}",
                    "import_id": None,
                    "last_action": None,
                    "bulk_created": False,
                    "task": task_id,
                    "project": 1,
                    "updated_by": None,
                    "parent_prediction": task_id if prediction else None,
                    "parent_annotation": None,
                    "last_created_by": None,
                }
            )
        data = {"text": art.text, "title": art.title, "language": art.lang}
        if art.target:
            data["target"] = art.target
        data["article_id"] = art.id
        data["text_sha256"] = hashlib.sha256(art.text.encode()).hexdigest()
        data["schema"] = schema_tag
        created = _ts(rng, base)
        yield {
            "id": task_id,
            "annotations": annotations,
            "drafts": [],
            "predictions": [task_id] if prediction else [],
            "data": data,
            "meta": {},
            "created_at": created,
            "updated_at": annotations[-1]["updated_at"],
            "allow_skip": True,
            "inner_id": task_id,
            "total_annotations": sum(not a["was_cancelled"] for a in annotations),
            "cancelled_annotations": sum(a["was_cancelled"] for a in annotations),
            "total_predictions": 1 if prediction else 0,
            "comment_count": 0,
            "unresolved_comment_count": 0,
            "last_comment_updated_at": None,
            "project": 1,
            "updated_by": None,
            "comment_authors": [],
        }


def write_export(path: Path, n: int, seed: int = 3, schema_tag: str = "news@000000000000") -> int:
    """Write a Label Studio JSON export of ``n`` tasks (the server's layout: a JSON array, one
    task object per item); returns the byte size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write("[")
        for i, task in enumerate(iter_export_tasks(n, seed, schema_tag)):
            fh.write(("," if i else "") + json.dumps(task, ensure_ascii=False))
        fh.write("]")
    tmp.replace(path)
    return path.stat().st_size
