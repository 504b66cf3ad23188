package gopayinterop

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"

	alipay "github.com/go-pay/gopay/alipay/v3"
)

// gopay has no typed call for the Jobworth query, which is why the suite uses its generic
// DoAliPayAPISelfV3. If a release adds one, this fails and the suite should move to it.
func TestNoTypedJobworthCall(t *testing.T) {
	typ := reflect.TypeOf(&alipay.ClientV3{})
	n := 0
	for i := 0; i < typ.NumMethod(); i++ {
		name := typ.Method(i).Name
		if strings.Contains(strings.ToLower(name), "jobworth") {
			t.Errorf("gopay now has a typed Jobworth call %s: use it instead of DoAliPayAPISelfV3", name)
		}
		n++
	}
	if n < 50 { // sanity: the reflection sees gopay's typed API (it has well over 100 calls)
		t.Fatalf("only %d exported methods on *ClientV3: the reflection check is not looking at gopay's client", n)
	}
	if _, ok := typ.MethodByName("DoAliPayAPISelfV3"); !ok {
		t.Fatal("gopay's generic call DoAliPayAPISelfV3 is gone")
	}
}

func TestKeyMode(t *testing.T) {
	f := newFixtureApp(t, "")
	client := f.keyClient(t)
	rec := record(client)

	t.Run("teacher SUCCESS once, then TOKEN_INVALID", func(t *testing.T) {
		auth, ans, _ := f.teacherSucceeds(t, client)
		if ans.MerchantIdentityID == "" || ans.OpenID != f.users["teacher"].OpenID {
			t.Fatalf("merchant_identity_id %q open_id %q (persona open_id %q)", ans.MerchantIdentityID, ans.OpenID, f.users["teacher"].OpenID)
		}
		ex := rec.last(t)
		// The sandbox signs its answers; gopay's generic call just does not look.
		for _, h := range []string{"alipay-signature", "alipay-timestamp", "alipay-nonce", "alipay-trace-id"} {
			if ex.RespHeader.Get(h) == "" {
				t.Errorf("the sandbox's answer lacks %s", h)
			}
		}
		if ex.RespHeader.Get("alipay-sn") != "" {
			t.Errorf("key mode answer carries alipay-sn %q", ex.RespHeader.Get("alipay-sn"))
		}
		// What gopay put on the wire: key-mode authString, its own SDK header, the query it signed.
		authz := ex.ReqHeader.Get("Authorization")
		if !strings.HasPrefix(authz, "ALIPAY-SHA256withRSA app_id="+f.id+",nonce=") || strings.Contains(authz, "app_cert_sn") {
			t.Errorf("authorization %q", authz)
		}
		if got := ex.ReqHeader.Get("alipay-sdk-version"); !strings.HasPrefix(got, "gopay/") {
			t.Errorf("alipay-sdk-version %q", got)
		}
		if ex.ReqHeader.Get("alipay-request-id") == "" {
			t.Error("no alipay-request-id")
		}
		// gopay sorts the parameters and escapes with url.QueryEscape (BodyMap.EncodeURLParams).
		if want := QueryPath + "?conn_key=" + auth.ConnKey; !strings.HasPrefix(ex.ReqURI, want) {
			t.Errorf("request-target %q, expected it to start %q (sorted keys)", ex.ReqURI, want)
		}

		errAns, errRes := expectAPIError(t, client, auth, http.StatusBadRequest, "TOKEN_INVALID")
		if len(errAns.Links) == 0 || errAns.Links[0].Link == "" {
			t.Errorf("links not decoded into gopay's []*Link: %+v", errAns.Links)
		}
		if errRes.Header.Get("alipay-trace-id") == "" || errRes.Header.Get("alipay-signature") == "" {
			t.Errorf("error answer headers %v", errRes.Header)
		}
	})

	t.Run("other personas", func(t *testing.T) {
		auth := f.authorize(t, "not-teacher")
		ans, res := mustQuery(t, client, auth)
		expectSuccess(t, ans, res, auth, "FAILED", "FINISH")

		pending := f.authorize(t, "pending")
		for i := 0; i < 2; i++ { // WAITING_VERIFY is repeatable
			ans, res = mustQuery(t, client, pending)
			expectSuccess(t, ans, res, pending, "WAITING_VERIFY", "PROCESSING")
		}
		for name, code := range map[string]string{
			"blacklisted": "JOB_WORTH_BLACK_LIST",
			"no-zhima":    "NOT_OPEN_ZM",
			"risk":        "RISK_INTERCEPT",
		} {
			expectAPIError(t, client, f.authorize(t, name), http.StatusBadRequest, code)
		}
	})

	t.Run("a gateway error surfaces the same way: invalid-signature", func(t *testing.T) {
		// Another app key than the registered one: the sandbox refuses gopay's signature.
		other, err := GenerateAppKeys()
		if err != nil {
			t.Fatal(err)
		}
		wrong, err := NewClient(f.base, f.id, other.PrivatePKCS8Bare)
		if err != nil {
			t.Fatal(err)
		}
		auth := f.authorize(t, "teacher")
		expectAPIError(t, wrong, auth, http.StatusBadRequest, "invalid-signature")
		ans, res := mustQuery(t, client, auth) // the refused query consumed nothing
		expectSuccess(t, ans, res, auth, "SUCCESS", "FINISH")
	})
}

// DEVIATION: in key mode gopay cannot verify answers at all. ClientV3 has no setter for the
// Alipay public key (its only source is SetCert, client.go), and autoVerifySignByCert
// (sign.go) returns nil when that key is nil; the generic DoAliPayAPISelfV3 (request.go) does
// not call it anyway. The official SDKs verify every 2xx answer in key mode (node refuses to
// send without config.alipayPublicKey; java/php/net check alipay-signature). So an answer
// rewritten in transit, its signature headers stripped, is handed to the caller as genuine.
func TestKeyModeAcceptsTamperedAnswer(t *testing.T) {
	f := newFixtureApp(t, "")
	client := f.keyClient(t)
	rec := record(client)
	rec.tamper = func(res *http.Response, body []byte) []byte {
		for _, h := range []string{"alipay-signature", "alipay-timestamp", "alipay-nonce"} {
			res.Header.Del(h)
		}
		return bytes.Replace(body, []byte(`"SUCCESS"`), []byte(`"FAILED"`), 1)
	}
	auth := f.authorize(t, "teacher")
	ans, res := mustQuery(t, client, auth)
	ex := rec.last(t)
	if !bytes.Contains(ex.WireBody, []byte(`"identity_result":"SUCCESS"`)) || ex.RespHeader.Get("alipay-signature") == "" {
		t.Fatalf("the sandbox should have sent a signed SUCCESS: %s", ex.WireBody)
	}
	if bytes.Equal(ex.WireBody, ex.GivenBody) {
		t.Fatal("the tamper did not change the body")
	}
	// gopay's actual behaviour: the forged, unsigned answer is accepted without an error.
	if res.StatusCode != http.StatusOK || ans.IdentityResult != "FAILED" || res.Header.Get("alipay-signature") != "" {
		t.Fatalf("expected gopay to hand over the forged FAILED unchecked, got HTTP %d %q", res.StatusCode, ans.IdentityResult)
	}
}

// gopay wants the private key as bare base64 (PKCS#1 or PKCS#8 DER); it adds RSA PRIVATE KEY
// armor itself (go-pay/crypto xrsa.FormatAlipayPrivateKey), so a PEM text gets armored twice and
// re-wrapped at 64 columns: whether that still parses depends on where the line breaks fall.
// A key that does not parse is reported with the key text quoted in clear
// (xpem.DecodePrivateKey: fmt.Errorf("私钥解析出错 [%s]", pemContent)); the official SDKs raise the
// crypto library's error without echoing the key.
func TestPrivateKeyForms(t *testing.T) {
	keys, err := GenerateAppKeys()
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]string{"PKCS#1 bare": keys.PrivatePKCS1Bare, "PKCS#8 bare": keys.PrivatePKCS8Bare} {
		if _, err := alipay.NewClientV3("2021000000000001", k, true); err != nil {
			t.Errorf("%s refused: %.100v", name, err)
		}
	}
	// A truncated key (still valid base64): refused, and the error quotes the key material
	// (its second 64-character line, as gopay re-wrapped it).
	truncated := keys.PrivatePKCS8Bare[:len(keys.PrivatePKCS8Bare)/4*4-400]
	_, err = alipay.NewClientV3("2021000000000001", truncated, true)
	if err == nil {
		t.Fatal("gopay accepted a truncated private key")
	}
	if !strings.Contains(err.Error(), truncated[64:128]) {
		t.Fatalf("expected gopay's error to quote the key material (its actual behaviour); error: %.200v", err)
	}
}
