#!/usr/bin/env python3
"""Generates the text benchmark inputs, deterministically (fixed seed):

  corpus.txt   about --mb megabytes of posts, one per line, ~70% Chinese by bytes,
               with lexicon terms (plain and disguised) sprinkled in
  lexicon.txt  a cleanweb lexicon of --terms terms: the shipped default lexicon
               plus generated Chinese and Latin terms
  terms.txt    the same terms, one per line, raw, for the peers that do not
               normalize (aho-corasick raw, pyahocorasick, flashtext)
"""
import argparse
import pathlib
import random
import re

COMMON_HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质色保世义完却张快"
    "今天我们一起去吃饭吧这个东西真的很好用推荐给大家喜欢记得点赞关注谢谢支持下次再来看看新的视频更新了"
)
EN_WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one had by "
    "word but not what all were we when your can said there use an each which she do how their if will up other "
    "about out many then them these so some her would make like him into time has look two more write go see "
    "number no way could people my than first water been call who oil its now find long down day did get come "
    "made may part great review product shipping fast quality price recommend love nice weather today city game "
    "video music photo share comment follow update news school work home family friend happy thanks"
).split()
DISGUISES = [
    lambda t: " ".join(t),
    lambda t: "*".join(t),
    lambda t: t.upper(),
    lambda t: t,
]


def chinese_line(rng, terms_zh, n_bytes):
    out, size = [], 0
    while size < n_bytes:
        if rng.random() < 0.02 and terms_zh:
            w = rng.choice(DISGUISES)(rng.choice(terms_zh))
        else:
            w = "".join(rng.choice(COMMON_HANZI) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.12:
            w += rng.choice("，。！？、 ")
        out.append(w)
        size += len(w.encode())
    return "".join(out)


def english_line(rng, terms_en, n_bytes):
    out, size = [], 0
    while size < n_bytes:
        if rng.random() < 0.01 and terms_en:
            w = rng.choice(DISGUISES)(rng.choice(terms_en))
        else:
            w = rng.choice(EN_WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def default_forms(path):
    forms = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        body = line.split("#", 1)[0].strip()
        if not body or body.startswith("["):
            continue
        body = body.split(";", 1)[0]
        forms += [f.strip() for f in body.split("|") if f.strip()]
    return forms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--terms", type=int, default=10000)
    ap.add_argument("--default-lexicon", default="crates/text/lexicons/default.txt")
    a = ap.parse_args()
    rng = random.Random(20261129)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    base = default_forms(a.default_lexicon)
    generated, seen = [], set(base)
    while len(base) + len(generated) < a.terms:
        if rng.random() < 0.6:
            t = "".join(rng.choice(COMMON_HANZI) for _ in range(rng.randint(3, 4)))
        else:
            t = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(6, 9)))
        if t not in seen:
            seen.add(t)
            generated.append(t)
    lex = ["# generated benchmark lexicon: default terms are loaded by the engine itself",
           "[sexual.explicit review]"] + generated
    (out / "lexicon.txt").write_text("\n".join(lex) + "\n", encoding="utf-8")
    terms = base + generated
    (out / "terms.txt").write_text("\n".join(terms) + "\n", encoding="utf-8")

    zh_terms = [t for t in terms if re.search(r"[\u4e00-\u9fff]", t)]
    en_terms = [t for t in terms if t.isascii()]
    target = int(a.mb * 1_000_000)
    size = 0
    with open(out / "corpus.txt", "w", encoding="utf-8") as f:
        while size < target:
            n = rng.randint(60, 600)
            line = chinese_line(rng, zh_terms, n) if rng.random() < 0.7 else english_line(rng, en_terms, n)
            f.write(line + "\n")
            size += len(line.encode()) + 1
    print(f"corpus {size / 1e6:.1f} MB, {len(terms)} terms ({len(generated)} generated) in {out}")


if __name__ == "__main__":
    main()
