#!/usr/bin/env python3
"""Generates the container benchmark, deterministically: N small text and
HTML items written twice, once unpacked into folders and once packed into
what platforms hold: zips, zips inside zips, tar.gz, tar.bz2, tar.xz and
EPUB books (one chapter per item), 50 items a container. Both trees hold
the same items, so items/s compares the cost of reading containers. Writes
DIR/expect.json with the planted counts. Does nothing if DIR exists.

Run: gen_container_tree.py DIR N
"""
import io
import json
import pathlib
import random
import shutil
import sys
import tarfile
import zipfile

PER = 50


def items(n):
    rng = random.Random(11)
    words = "the a market weather recipe bread garden school travel photo city river music book".split()
    explicit = ["hot porn videos", "hardcore sex tonight", "约炮 上门服务", "nude photos of her"]
    out = []
    for i in range(n):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
        bad = rng.random() < 0.10
        if bad:
            body += " " + rng.choice(explicit)
        out.append((f"item{i:06d}", body, bad))
    return out


def page(body):
    return f'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body><p>{body}</p></body></html>'


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members, mode):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in members:
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def epub_bytes(chapters):
    manifest = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    files = [
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", '<?xml version="1.0"?><container><rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>'),
        ("OEBPS/content.opf", f'<?xml version="1.0"?><package><metadata></metadata><manifest>{manifest}</manifest><spine>{spine}</spine></package>'),
    ]
    files += [(f"OEBPS/c{i}.xhtml", page(body)) for i, (_, body, _) in enumerate(chapters)]
    return zip_bytes(files)


def main():
    out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    if out.exists():
        print(f"{out} exists")
        return
    tmp = out.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    all_items = items(n)
    kinds = ["zip", "nested", "tgz", "tbz2", "txz", "epub"]
    for c, start in enumerate(range(0, n, PER)):
        group = all_items[start:start + PER]
        kind = kinds[c % len(kinds)]
        folder = f"d{c % 20:02d}"
        loose = tmp / "unpacked" / folder / f"c{c:05d}"
        loose.mkdir(parents=True, exist_ok=True)
        html = kind == "epub"
        for name, body, _ in group:
            (loose / (name + (".xhtml" if html else ".txt"))).write_text(page(body) if html else body)
        packed = tmp / "packed" / folder
        packed.mkdir(parents=True, exist_ok=True)
        members = [(f"{name}.txt", body) for name, body, _ in group]
        if kind == "zip":
            data, ext = zip_bytes(members), "zip"
        elif kind == "nested":
            data, ext = zip_bytes([("inner.zip", zip_bytes(members))]), "zip"
        elif kind == "tgz":
            data, ext = tar_bytes(members, "w:gz"), "tar.gz"
        elif kind == "tbz2":
            data, ext = tar_bytes(members, "w:bz2"), "tar.bz2"
        elif kind == "txz":
            data, ext = tar_bytes(members, "w:xz"), "tar.xz"
        else:
            data, ext = epub_bytes(group), "epub"
        (packed / f"c{c:05d}.{ext}").write_bytes(data)
    expect = {"items": n, "flagged": sum(1 for _, _, bad in all_items if bad)}
    (tmp / "expect.json").write_text(json.dumps(expect))
    tmp.rename(out)
    print(f"{out}: {expect}")


if __name__ == "__main__":
    main()
