#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/ from crates/alipay-v3/tests/fixtures/.

Run from anywhere: python3 fuzz/make_seeds.py. The output is committed; rerun it when the
fixtures change. Only fixture data (public test keys and vectors) goes in.
"""
import base64
import hashlib
import json
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent
fx = root.parent / "crates" / "alipay-v3" / "tests" / "fixtures"
vectors = json.loads((fx / "vectors.json").read_text())
out = root / "seeds"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def pem_ders(text):
    for body in re.findall(r"-----BEGIN [^-]+-----(.*?)-----END", text, re.S):
        yield base64.b64decode("".join(body.split()))


def read(name):
    return (fx / name).read_text()


# Authorization headers: every signed request vector, plus hand-made edge shapes.
for v in vectors["request_signing"]["vectors"]:
    put("auth_header", v["authorization"])
put("auth_header", "ALIPAY-SHA256withRSA timestamp=5,app_id=1,nonce=n,expired_seconds=120,sign=a,sign=b")
put("auth_header", "ALIPAY-SHA256withRSA app_id=1,app_cert_sn=,nonce=n,timestamp=18446744073709551615,sign=x")

# Private keys: PKCS#1 PEM, PKCS#8 bare base64, and both as DER.
pk1 = read("app-private-key-pkcs1.pem")
pk8 = read("app-private-key-pkcs8-bare.txt")
put("private_key", pk1)
put("private_key", pk8)
for der in pem_ders(pk1):
    put("private_key", der)
put("private_key", base64.b64decode("".join(pk8.split())))

# Public keys: SPKI PEM, bare base64, the SPKI DER, and a certificate PEM (key taken from it).
pub = read("app-public-key.pem")
put("public_key", pub)
put("public_key", read("alipay-stable-rsa2-public-key-bare.txt"))
for der in pem_ders(pub):
    put("public_key", der)
put("public_key", base64.b64decode(vectors["cert_public_key"]["spki_der_base64"]))
put("public_key", read("alipayCertPublicKey_RSA2.crt"))

# Certificates: each PEM file, and the DER of every certificate in them.
for name in ["alipayCertPublicKey_RSA2.crt", "alipayRootCert.crt", "appCertPublicKey_2021001161683774.crt"]:
    text = read(name)
    put("cert", text)
    for der in pem_ders(text):
        put("cert", der)

# AES: selector byte 0 (AES-128), the fixture key, then each ciphertext.
aes = vectors["aes"]
key = bytes.fromhex(aes["key_hex"])
for v in aes["vectors"]:
    put("aes_decrypt", b"\x00" + key + v["ciphertext_base64"].encode())
    put("aes_decrypt", b"\x00" + key + v["plaintext"].encode())

# Order strings: the signed vector and its plain parameters.
for v in vectors["v2_order_string"]["vectors"]:
    put("order_string", v["order_string"])
    put("order_string", "&".join(f"{k}={val}" for k, val in v["params_in_emitted_order"]))

# Queries: request-targets of the signing vectors and the Node encoding example.
for v in vectors["request_signing"]["vectors"]:
    if "?" in v["request_uri"]:
        put("query", v["request_uri"].split("?", 1)[1])
put("query", vectors["node_query_encoding"]["request_uri"].split("?", 1)[1])
put("query", "a=x+y&b=%E4%B8%AD&&c&=&a=2")

# SDK response model: answers and error bodies in the shapes SPEC section 4 gives.
for body in [
    '{"identity_result":"SUCCESS","token_status":"FINISH","identity_result_skip_url":'
    '"alipays://platformapi/startapp?appId=20000067&url=x","user_id":"2088000000000001",'
    '"open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","merchant_identity_id":"a1b2"}',
    '{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING"}',
    '{"identity_result":"T","new_field":[1,2,{"x":null}]}',
    '{"code":"TOKEN_INVALID","message":"once_token \u65e0\u6548","links":[{"link":"https://example.invalid/x","desc":"d"}]}',
    '{"code":"invalid-signature","message":"m","links":"x"}',
]:
    put("sdk_response", body)
