#!/usr/bin/env python3
"""Make the OCR test pictures and record RapidOCR 3.10.0's outputs as goldens.

Run through scripts/ocr-goldens (it sets up the pinned venv and the fonts).

    make_ocr_goldens.py              # draw the pictures, run RapidOCR, write goldens.json
    make_ocr_goldens.py --no-images  # keep the pictures on disk, only rerun RapidOCR
    make_ocr_goldens.py --quiet      # do not print truth vs RapidOCR per picture

Everything is deterministic: fixed texts, fixed positions, fixed seeds.
All texts are benign (shop notices, weather, menus, timetables, poems...).
"""

import argparse
import copy
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
PHOTOS = HERE.parent.parent.parent / "nudity" / "tests" / "data" / "images"

NOTO_SANS = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NOTO_SANS_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
NOTO_SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
WQY = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
# Face index 2 in the Noto CJK collections is the Simplified Chinese (SC) face;
# index 0 in wqy-zenhei.ttc is "WenQuanYi Zen Hei".
FACES = {
    "sans": (NOTO_SANS, 2),
    "sans_bold": (NOTO_SANS_BOLD, 2),
    "serif": (NOTO_SERIF, 2),
    "wqy": (WQY, 0),
}

_font_cache = {}


def font(face, size):
    key = (face, size)
    if key not in _font_cache:
        path, index = FACES[face]
        _font_cache[key] = ImageFont.truetype(path, size, index=index)
    return _font_cache[key]


def text_block(size, bg, lines, fg, face, px, x=None, y=None, spacing=1.6, align="left"):
    """Plain background with lines of text; returns (image, truth)."""
    w, h = size
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    f = font(face, px)
    step = int(px * spacing)
    total = step * (len(lines) - 1) + px
    y0 = (h - total) // 2 if y is None else y
    for i, line in enumerate(lines):
        tw = d.textlength(line, font=f)
        if align == "center":
            lx = int((w - tw) // 2)
        else:
            lx = 24 if x is None else x
        d.text((lx, y0 + i * step), line, font=f, fill=fg)
    return img, list(lines)


def on_photo(photo, lines, face, px, fg, box_rgba=None, pos=(20, 20), spacing=1.7, resize=None, gray=False):
    """Text over one of the repository's benign photos, optionally on a semi-transparent box."""
    base = Image.open(PHOTOS / photo)
    base = base.convert("L").convert("RGB") if gray else base.convert("RGB")
    if resize:
        base = base.resize(resize, Image.Resampling.LANCZOS)
    base = base.convert("RGBA")
    f = font(face, px)
    step = int(px * spacing)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    x, y = pos
    if box_rgba is not None:
        tw = max(d.textlength(s, font=f) for s in lines)
        d.rectangle(
            [x - 12, y - 10, x + int(tw) + 12, y + step * (len(lines) - 1) + px + 14],
            fill=box_rgba,
        )
    base = Image.alpha_composite(base, overlay)
    d = ImageDraw.Draw(base)
    for i, line in enumerate(lines):
        d.text((x, y + i * step), line, font=f, fill=fg)
    return base.convert("RGB"), list(lines)


def rotated(img, angle, bg):
    """Rotate counter-clockwise by angle degrees around the centre, growing the canvas."""
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=bg)


def pic_vertical():
    w, h = 120, 520
    img = Image.new("RGB", (w, h), (250, 250, 245))
    d = ImageDraw.Draw(img)
    f = font("sans_bold", 56)
    text = "请勿吸烟"
    for i, ch in enumerate(text):
        d.text((32, 30 + i * 118), ch, font=f, fill=(180, 20, 20))
    return img, [text]


def pic_menu():
    items = [
        ("宫保鸡丁", "28元"), ("鱼香肉丝", "26元"), ("麻婆豆腐", "18元"), ("番茄炒蛋", "16元"),
        ("青椒土豆丝", "12元"), ("红烧茄子", "15元"), ("酸辣汤", "10元"), ("蛋炒饭", "14元"),
        ("牛肉面", "22元"), ("小笼包", "12元"), ("葱油饼", "6元"), ("豆浆", "3元"),
        ("油条", "2元"), ("Coffee", "18元"), ("Green tea", "8元"), ("柠檬水", "9元"),
        ("水果沙拉", "20元"), ("米饭", "2元"), ("Orange juice", "12元"), ("冰淇淋", "7元"),
    ]
    w, h = 560, 1040
    img = Image.new("RGB", (w, h), (255, 252, 240))
    d = ImageDraw.Draw(img)
    ft = font("sans_bold", 34)
    f = font("sans", 24)
    d.text((190, 24), "今日菜单", font=ft, fill=(60, 30, 10))
    truth = ["今日菜单"]
    for i, (name, price) in enumerate(items):
        y = 100 + i * 46
        d.text((50, y), name, font=f, fill=(30, 30, 30))
        pw = d.textlength(price, font=f)
        d.text((w - 50 - int(pw), y), price, font=f, fill=(150, 20, 20))
        truth += [name, price]
    return img, truth


def pic_noise():
    rs = np.random.RandomState(20240607)
    arr = rs.randint(0, 256, size=(300, 400, 3), dtype=np.uint8)
    return Image.fromarray(arr, "RGB"), []


def pic_tiny():
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.text((8, 0), "OK", font=font("sans_bold", 15), fill=(0, 0, 0))
    return img, ["OK"]


def pic_wide_banner():
    return text_block(
        (1200, 100), (200, 30, 40),
        ["春季促销 全场八折 Spring sale 20% off"],
        (255, 240, 200), "sans_bold", 44, x=60,
    )


def pic_rot(lines, angle, size, face, px, bg=(255, 255, 255), fg=(20, 20, 20)):
    img, truth = text_block(size, bg, lines, fg, face, px)
    return rotated(img, angle, bg), truth


def pic_rot180():
    img, truth = text_block(
        (640, 160), (245, 245, 245), ["旧书回收 每公斤两元"], (10, 10, 10), "sans", 48, align="center"
    )
    return img.transpose(Image.Transpose.ROTATE_180), truth


# name, format (png | jpg:<quality>), builder
PICTURES = [
    ("zh_sans_notice.png", "png", lambda: text_block(
        (640, 220), (255, 255, 255),
        ["今日营业时间：早上九点至晚上十点", "本店支持扫码付款"],
        (20, 20, 20), "sans", 32)),
    ("zh_serif_poem.png", "png", lambda: text_block(
        (480, 420), (248, 244, 230),
        ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"],
        (40, 30, 20), "serif", 48, align="center")),
    ("zh_wqy_weather_dark.png", "png", lambda: text_block(
        (720, 260), (20, 40, 90),
        ["明天多云转晴，气温十八到二十六度", "东南风三级", "空气质量良"],
        (250, 250, 250), "wqy", 34)),
    ("zh_small_timetable.png", "png", lambda: text_block(
        (420, 200), (255, 255, 255),
        ["周一 第一节 语文", "周一 第二节 数学", "周二 第一节 英语", "周二 第二节 体育"],
        (0, 0, 0), "sans", 18, spacing=1.9)),
    ("zh_large_welcome.jpg", "jpg:90", lambda: text_block(
        (640, 240), (255, 236, 150), ["欢迎光临"], (120, 40, 0), "sans_bold", 64, align="center")),
    ("en_shop_hours.png", "png", lambda: text_block(
        (640, 260), (250, 250, 250),
        ["OPEN 7 DAYS A WEEK", "Mon-Fri 9:00 - 21:00", "Sat & Sun 10:00 - 18:00"],
        (10, 60, 20), "sans", 36)),
    ("mixed_plumber.jpg", "jpg:88", lambda: text_block(
        (760, 340), (235, 245, 255),
        ["王师傅水电维修", "电话：138 0013 8000", "WeChat: wang_plumber88", "www.example-shop.com"],
        (0, 30, 80), "sans", 36)),
    ("mixed_tutor.png", "png", lambda: text_block(
        (720, 300), (255, 255, 255),
        ["数学英语家教，小学到初中", "Tel: 021-6543 2100", "Email: tutor@example.com", "周末上午 9:00-12:00"],
        (30, 30, 30), "wqy", 32)),
    ("mixed_product.png", "png", lambda: text_block(
        (560, 300), (240, 250, 240),
        ["有机绿茶 250g", "产地：浙江杭州", "保质期：18个月", "Price: 68.00元"],
        (20, 70, 30), "serif", 34)),
    ("mixed_transport_dark.jpg", "jpg:85", lambda: text_block(
        (720, 240), (15, 15, 15),
        ["K18路 开往 火车站", "下一班 08:45", "Platform 2 Next train 10:15"],
        (255, 200, 0), "sans_bold", 38)),
    ("photo_astronaut_box.jpg", "jpg:90", lambda: on_photo(
        "astronaut.jpg", ["太空探索展览", "Space Expo 2024"], "sans_bold", 36,
        (255, 255, 255), box_rgba=(0, 0, 0, 150), pos=(40, 40))),
    ("photo_coffee_plain.jpg", "jpg:88", lambda: on_photo(
        "coffee.jpg", ["咖啡买一送一", "Latte 25元"], "sans_bold", 40,
        (255, 255, 255), pos=(30, 300), spacing=1.4)),
    ("photo_rocket_box.jpg", "jpg:86", lambda: on_photo(
        "rocket.jpg", ["火箭发射观测日", "Launch viewing day 6:30 AM"], "sans", 30,
        (20, 20, 20), box_rgba=(255, 255, 255, 170), pos=(30, 320))),
    ("photo_chelsea_plain.jpg", "jpg:90", lambda: on_photo(
        "chelsea.png", ["宠物美容 每周三半价"], "wqy", 32,
        (255, 255, 0), pos=(20, 20))),
    ("photo_camera_box.jpg", "jpg:92", lambda: on_photo(
        "camera_gray.png", ["摄影课 周六下午两点", "Photo class Sat 2 PM"], "sans", 30,
        (255, 255, 255), box_rgba=(0, 0, 0, 130), pos=(30, 420), gray=True)),
    ("rot_plus5.png", "png", lambda: pic_rot(
        ["图书馆开放时间调整", "Library opens at 8:30"], 5, (640, 200), "sans", 34)),
    ("rot_minus8.jpg", "jpg:90", lambda: pic_rot(
        ["超市新鲜水果特价", "苹果 每斤5元"], -8, (600, 200), "wqy", 36, bg=(255, 250, 235))),
    ("rot_plus10_dark.png", "png", lambda: pic_rot(
        ["公园周末音乐会"], 10, (520, 140), "serif", 44, bg=(30, 30, 60), fg=(240, 240, 240))),
    ("rot_180.png", "png", pic_rot180),
    ("vertical_no_smoking.png", "png", pic_vertical),
    ("menu_price_list.png", "png", pic_menu),
    ("wide_banner.png", "png", pic_wide_banner),
    ("blank.png", "png", lambda: (Image.new("RGB", (640, 480), (230, 230, 230)), [])),
    ("tiny_40x20.png", "png", pic_tiny),
    ("noise.jpg", "jpg:85", pic_noise),
    # Sex-service and porn-site ads as text over benign backgrounds (the
    # engine's picture-ad tests; no sexual imagery anywhere).
    ("ad_services_photo.jpg", "jpg:88", lambda: on_photo(
        "coffee.jpg", ["同城上门服务 包夜特价", "加V: mm520xx"], "sans_bold", 34,
        (255, 255, 255), box_rgba=(0, 0, 0, 140), pos=(30, 260))),
    ("ad_site_plain.png", "png", lambda: text_block(
        (720, 260), (255, 240, 245),
        ["成人视频 无码高清 每日更新", "永久地址 av88-example.com"],
        (160, 0, 60), "sans_bold", 36)),
]


def save(img, path, fmt):
    if fmt == "png":
        img.save(path, format="PNG", optimize=True)
    else:
        q = int(fmt.split(":")[1])
        img.save(path, format="JPEG", quality=q, subsampling="4:2:0", optimize=False)


def to_list(a):
    return np.asarray(a, dtype=np.float64).round(4).tolist()


def run_rapidocr(files):
    from rapidocr import RapidOCR

    engine = RapidOCR()
    captured = {}
    orig_steps = engine.run_ocr_steps

    def spy(img, op_record):
        det_res, cls_res, rec_res, crops = orig_steps(img, op_record)
        captured["input_shape"] = list(img.shape)
        captured["op_record"] = copy.deepcopy(op_record)
        captured["det_boxes"] = None if det_res.boxes is None else to_list(det_res.boxes)
        captured["det_scores"] = None if det_res.scores is None else [round(float(s), 6) for s in det_res.scores]
        captured["cls"] = None if cls_res.cls_res is None else [[l, round(float(s), 6)] for l, s in cls_res.cls_res]
        captured["rec_raw"] = None if rec_res.txts is None else [[t, float(s)] for t, s in zip(rec_res.txts, rec_res.scores)]
        return det_res, cls_res, rec_res, crops

    engine.run_ocr_steps = spy

    out = []
    for name, truth in files:
        path = HERE / name
        captured.clear()
        res = engine(str(path))
        with Image.open(path) as im:
            w, h = im.size
        lines = []
        if res.txts is not None:
            for box, txt, score in zip(res.boxes, res.txts, res.scores):
                lines.append({"text": txt, "score": float(score), "box": to_list(box)})
        op = captured.get("op_record", {})
        debug = {
            "op_record": {k: {kk: float(vv) for kk, vv in v.items()} for k, v in op.items()},
            "preprocessed_shape": captured.get("input_shape"),
            "det_boxes_padded": captured.get("det_boxes"),
            "det_scores_contour_order": captured.get("det_scores"),
            "cls": captured.get("cls"),
            "rec_raw": captured.get("rec_raw"),
        }
        out.append({
            "file": name,
            "width": w,
            "height": h,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "truth": truth,
            "lines": lines,
            "debug": debug,
        })
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-images", action="store_true", help="reuse pictures already on disk")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    for face, (p, _) in FACES.items():
        if not Path(p).exists():
            sys.exit(f"missing font {p} ({face}); apt-get install fonts-noto-cjk fonts-wqy-zenhei")

    files = []
    for name, fmt, build in PICTURES:
        img, truth = build()
        if not args.no_images:
            save(img, HERE / name, fmt)
        files.append((name, truth))

    goldens = run_rapidocr(files)
    (HERE / "goldens.json").write_text(
        json.dumps(goldens, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

    total = sum((HERE / n).stat().st_size for n, _ in files)
    if not args.quiet:
        for g in goldens:
            print(f"== {g['file']} {g['width']}x{g['height']}")
            print("   truth:", " | ".join(g["truth"]) or "(none)")
            print("   rapid:", " | ".join(f"{l['text']} ({l['score']:.3f})" for l in g["lines"]) or "(none)")
    print(f"{len(files)} pictures, {total} bytes; wrote {HERE / 'goldens.json'}")

    sys.path.insert(0, str(HERE))
    sys.dont_write_bytecode = True
    import cer

    cer.report(goldens, None)


if __name__ == "__main__":
    main()
