#!/usr/bin/env python3
"""Independent check of the v1 and v2 test vectors against docs/vault-format.md.

Written from the specification, not from the Rust code, with other implementations of every
primitive: libargon2 (argon2-cffi), OpenSSL AES-GCM and HKDF (cryptography). The test command
(scripts/test.sh, tier "vault-vectors") runs it in a venv that scripts/setup.sh makes from the
hash-pinned requirements.txt next to it. By hand:

    .tools/venv-vectors/bin/python crates/phr-vault/tests/vectors/verify.py
"""

import base64
import hashlib
import json
import pathlib
import struct
import sys

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = pathlib.Path(__file__).parent
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def recovery_secret(text):
    symbols = [CROCKFORD.index(c) for c in text.replace("-", "").upper()]
    bits = "".join(format(s, "05b") for s in symbols[:26])
    assert bits[128:] == "00"
    return int(bits[:128], 2).to_bytes(16, "big")


def parse_blob(blob, version):
    assert blob[:4] == b"PHRS" and blob[4] == version
    n = blob[21]
    name = blob[22 : 22 + n].decode()
    (seq,) = struct.unpack(">Q", blob[22 + n : 30 + n])
    nonce = blob[30 + n : 42 + n]
    aad = b"phr-vault/v%d/segment" % version + blob[: 30 + n]
    return blob[5:21], name, seq, nonce, aad, blob[42 + n :]


def check_entry(entry, blob, version):
    """The manifest pins a blob by length and SHA-256 (v1) or by its AES-GCM tag (v2)."""
    assert entry["len"] == len(blob)
    if version == 1:
        assert set(entry) == {"name", "seq", "len", "sha256"}
        assert entry["sha256"] == hashlib.sha256(blob).hexdigest()
    else:
        assert set(entry) == {"name", "seq", "len", "tag"}
        assert entry["tag"] == blob[-16:].hex()


def verify(version):
    D = HERE / ("v%d" % version)
    inputs = json.loads((D / "inputs.json").read_text())
    raw = (D / "header.json").read_bytes()
    body_start = raw.index(b'{"body":') + len(b'{"body":')
    body_end = raw.rindex(b',"sha256":"')
    body = raw[body_start:body_end]
    outer = json.loads(raw)
    assert hashlib.sha256(body).hexdigest() == outer["sha256"], "checksum"
    h = json.loads(body)
    vault_id = bytes.fromhex(h["vault_id"])

    kdf = h["kdf"]
    kek_pw = hash_secret_raw(
        inputs["passphrase"].encode(), b64(kdf["salt"]), time_cost=kdf["t"],
        memory_cost=kdf["m_kib"], parallelism=kdf["p"], hash_len=32, type=Type.ID, version=19,
    )
    assert kek_pw.hex() == inputs["passphrase_kek"], "argon2id"
    pw, rec = h["slots"]
    vk = AESGCM(kek_pw).decrypt(
        b64(pw["nonce"]), b64(pw["wrapped"]), b"phr-vault/v1/slot" + vault_id + b"passphrase"
    )
    assert vk.hex() == inputs["vault_key"], "passphrase slot"

    kek_rk = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b64(rec["salt"]), info=b"phr-vault/v1/recovery"
    ).derive(recovery_secret(inputs["recovery_key"]))
    assert kek_rk.hex() == inputs["recovery_kek"], "hkdf"
    vk2 = AESGCM(kek_rk).decrypt(
        b64(rec["nonce"]), b64(rec["wrapped"]), b"phr-vault/v1/slot" + vault_id + b"recovery"
    )
    assert vk2 == vk, "recovery slot"

    mac = b64(outer["mac"])
    AESGCM(vk).decrypt(mac[:12], mac[12:], b"phr-vault/v1/header-mac" + body)

    manifest_blob = (D / "manifest.bin").read_bytes()
    mid, mname, generation, nonce, aad, ct = parse_blob(manifest_blob, version)
    assert (mid, mname, generation) == (vault_id, "manifest", inputs["generation"])
    manifest = json.loads(AESGCM(vk).decrypt(nonce, ct, aad))
    assert json.dumps(manifest, separators=(",", ":")) == inputs["manifest_plaintext"]

    blobs = {}
    for seg in inputs["segments"]:
        blob = (D / seg["file"]).read_bytes()
        entry = next(e for e in manifest["segments"] if e["name"] == seg["name"])
        check_entry(entry, blob, version)
        sid, name, seq, nonce, aad, ct = parse_blob(blob, version)
        assert (sid, name, seq) == (vault_id, seg["name"], entry["seq"])
        assert AESGCM(vk).decrypt(nonce, ct, aad).decode() == seg["plaintext"]
        blobs[name] = blob

    backup = (D / "backup.phrbackup").read_bytes()
    assert backup[:5] == b"PHRB\x01"
    assert hashlib.sha256(backup[:-32]).digest() == backup[-32:]
    pos = 5
    chunks = []
    for _ in range(2):
        (n,) = struct.unpack(">I", backup[pos : pos + 4])
        chunks.append(backup[pos + 4 : pos + 4 + n])
        pos += 4 + n
    (count,) = struct.unpack(">I", backup[pos : pos + 4])
    pos += 4
    for _ in range(count):
        (n,) = struct.unpack(">I", backup[pos : pos + 4])
        chunks.append(backup[pos + 4 : pos + 4 + n])
        pos += 4 + n
    assert pos == len(backup) - 32
    assert chunks[0] == raw and chunks[1] == manifest_blob
    assert chunks[2:] == [blobs[n] for n in sorted(blobs)]
    print("v%d vectors verified independently" % version)


def main():
    verify(1)
    verify(2)


if __name__ == "__main__":
    sys.exit(main())
