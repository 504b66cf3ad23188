package gopayinterop

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// DEVIATION: gopay's v3 client has no AES content encryption for API calls. SetAESKey
// (client.go, documented there as "目前不可用，设置后会报错" — not usable yet) only feeds the
// biz_content of the v2-style page/wap pay forms (payment_api.go) and one decrypt helper
// (member_api.go); no request carries alipay-encrypt-type and no answer is decrypted. The
// official java/php/net v3 SDKs mark every request `alipay-encrypt-type: AES` once an encrypt
// key is configured (GET included) and decrypt every 2xx body.
// So against an app registered with an encrypt_key, gopay gets — and can only read — plaintext.
func TestAESKeyIsNotUsedForV3Calls(t *testing.T) {
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	aesKey := base64.StdEncoding.EncodeToString(key)
	f := newFixtureApp(t, aesKey)
	for _, mode := range []string{"key", "cert"} {
		t.Run(mode+" mode", func(t *testing.T) {
			client := f.keyClient(t)
			if mode == "cert" {
				client = f.certClient(t)
			}
			client.SetAESKey(aesKey)
			rec := record(client)
			auth, _, _ := f.teacherSucceeds(t, client)
			ex := rec.last(t)
			for _, h := range []string{"alipay-encrypt-type", "alipay-encryption-algm"} {
				if got := ex.ReqHeader.Values(h); len(got) != 0 {
					t.Errorf("gopay sent %s %q", h, got)
				}
			}
			ct := ex.RespHeader.Get("Content-Type")
			if !strings.HasPrefix(ct, "application/json") || !json.Valid(ex.WireBody) {
				t.Errorf("expected a plaintext JSON answer, got %q %.80s", ct, ex.WireBody)
			}
			expectAPIError(t, client, auth, http.StatusBadRequest, "TOKEN_INVALID")
		})
	}
}
