#!/usr/bin/python3
"""Writes the binary seeds of the harnesses whose inputs are binary files, so that no binary
is committed (docs/fuzzing.md): small GGUF headers (text model and mmproj), .npy feature files
with their sidecar, evaluation run stores (SQLite) and tiny images in every accepted format.

    make_seeds.py HARNESS OUT_DIR   (Debian's python3: sqlite3, numpy and PIL)
"""
import io
import json
import sqlite3
import struct
import sys
from pathlib import Path

# ---- GGUF (ggml/docs/gguf.md: version 3, little-endian) ----------------------------------
U32, F32, BOOL, STRING, ARRAY = 4, 6, 7, 8, 9


def gguf_string(text):
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_value(kind, value):
    if kind == U32:
        return struct.pack("<I", value)
    if kind == F32:
        return struct.pack("<f", value)
    if kind == BOOL:
        return struct.pack("<?", value)
    if kind == STRING:
        return gguf_string(value)
    item_kind, items = value
    return struct.pack("<IQ", item_kind, len(items)) + b"".join(gguf_value(item_kind, v) for v in items)


def gguf_file(kvs, tensors):
    """kvs: [(key, kind, value)]; tensors: [(name, shape)] of float32, laid out one after the other."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, kind, value in kvs:
        out += gguf_string(key) + struct.pack("<I", kind) + gguf_value(kind, value)
    offset, data = 0, b""
    for name, shape in tensors:
        out += gguf_string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<q", n) for n in shape)
        out += struct.pack("<IQ", 0, offset)  # GGML_TYPE_F32
        count = 1
        for n in shape:
            count *= n
        tensor = struct.pack(f"<{count}f", *([0.5] * count)).ljust((count * 4 + 31) // 32 * 32, b"\0")
        data += tensor
        offset += len(tensor)
    out = out.ljust((len(out) + 31) // 32 * 32, b"\0")
    return out + data


def gguf_seeds():
    text = gguf_file([("general.architecture", STRING, "gemma3"), ("gemma3.embedding_length", U32, 8)],
                     [("token_embd.weight", [8, 4])])
    vision = [("general.architecture", STRING, "clip"), ("clip.has_vision_encoder", BOOL, True),
              ("clip.vision.embedding_length", U32, 16), ("clip.vision.block_count", U32, 1),
              ("clip.vision.image_size", U32, 28), ("clip.vision.patch_size", U32, 14),
              ("clip.vision.image_mean", ARRAY, (F32, [0.5, 0.5, 0.5])),
              ("clip.vision.image_std", ARRAY, (F32, [0.5, 0.5, 0.5]))]
    gemma3 = gguf_file(vision + [("clip.projector_type", STRING, "gemma3")],
                       [("mm.input_projection.weight", [8, 16]), ("v.post_ln.weight", [16]), ("v.post_ln.bias", [16])])
    llava = gguf_file(vision + [("clip.projector_type", STRING, "mlp")], [("mm.2.weight", [16, 8])])
    return {"text_model": b"\0" + text, "mmproj_gemma3": b"\1" + gemma3, "mmproj_mlp": b"\1" + llava}


# ---- .npy + sidecar (fuzz_features_npy: the sidecar follows a separator line) -----------------
def npy_seeds():
    import numpy

    seeds = {}
    sidecar = b"\n--sidecar--\n" + b"image,label,split,patient_id\na.jpg,mel,train,p1\nb.jpg,nv,test,\n"
    for name, array in {"f4_c": numpy.arange(6, dtype="<f4").reshape(2, 3),
                        "f8_fortran": numpy.asfortranarray(numpy.arange(4, dtype="<f8").reshape(2, 2))}.items():
        buffer = io.BytesIO()
        numpy.save(buffer, array)
        seeds[name] = buffer.getvalue() + sidecar
    return seeds


# ---- run stores (src/eval/run_store.cpp: application id "DLRS", schema version 1) ---------
RUN_STORE_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE samples (key TEXT PRIMARY KEY, item_order INTEGER NOT NULL, record TEXT NOT NULL, error TEXT);
"""


def run_store_seeds(folder):
    seeds = {}
    for name, plan in {"with_plan": {"shard": {"index": 1, "count": 2}, "limit": 0, "items": 2}, "no_plan": None}.items():
        path = folder / f"{name}.sqlite"
        path.unlink(missing_ok=True)
        db = sqlite3.connect(path)
        db.executescript(RUN_STORE_SCHEMA)
        db.execute("PRAGMA application_id = 1145852499")  # 0x444C5253
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO meta VALUES ('settings', ?)", (json.dumps({"protocol": "paper000", "seed": 0}),))
        if plan:
            db.execute("INSERT INTO meta VALUES ('plan', ?)", (json.dumps(plan),))
        db.execute("INSERT INTO samples VALUES ('seed=0|image=a.jpg', 0, ?, NULL)",
                   (json.dumps({"image": "a.jpg", "prediction": "mel", "probabilities": [0.9, 0.1]}),))
        db.execute("INSERT INTO samples VALUES ('seed=0|image=b.jpg', 1, ?, ?)",
                   (json.dumps({"image": "b.jpg"}), json.dumps({"kind": "invalid_input", "message": "x"})))
        db.commit()
        db.execute("PRAGMA journal_mode = DELETE")
        db.close()
        seeds[name] = path.read_bytes()
        path.unlink()
    return seeds


# ---- tiny images --------------------------------------------------------------------------
def image_seeds():
    from PIL import Image

    image = Image.new("RGB", (5, 3), (200, 120, 40))
    image.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[274] = 6  # Orientation: rotate 90
    seeds = {}
    for name, fmt, options in [("baseline.jpg", "JPEG", {"exif": exif.tobytes()}),
                               ("progressive.jpg", "JPEG", {"progressive": True}),
                               ("exif.png", "PNG", {"exif": exif.tobytes()}), ("plain.bmp", "BMP", {}),
                               ("lossless.webp", "WEBP", {"lossless": True, "exif": exif.tobytes()}),
                               ("lzw.tif", "TIFF", {"compression": "tiff_lzw"})]:
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        seeds[name] = buffer.getvalue()
    buffer = io.BytesIO()
    image.convert("LA").save(buffer, "PNG")
    seeds["grey_alpha.png"] = buffer.getvalue()
    return seeds


def main():
    harness, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    makers = {"fuzz_gguf": gguf_seeds, "fuzz_features_npy": npy_seeds, "fuzz_run_store": lambda: run_store_seeds(out),
              "fuzz_image_header": image_seeds, "fuzz_image_decode": image_seeds}
    if harness not in makers:
        return
    for name, data in makers[harness]().items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
