package gopayinterop

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	_ "unsafe" // go:linkname

	"github.com/go-pay/gopay"
	alipay "github.com/go-pay/gopay/alipay/v3"
)

// gopay's response verifier, the one all its typed v3 calls end with
// (`return aliRsp, a.autoVerifySignByCert(res, bs)`). It is unexported and the generic
// DoAliPayAPISelfV3 never calls it, so to learn whether gopay's verification would accept the
// sandbox's answers the test reaches it by linkname, with the exact bytes gopay was handed.
//
//go:linkname gopayVerify github.com/go-pay/gopay/alipay/v3.(*ClientV3).autoVerifySignByCert
func gopayVerify(c *alipay.ClientV3, res *http.Response, body []byte) error

func verifyExchange(c *alipay.ClientV3, ex exchange) error {
	return gopayVerify(c, &http.Response{StatusCode: ex.Status, Header: ex.GivenHeader}, ex.GivenBody)
}

func TestCertMode(t *testing.T) {
	f := newFixtureApp(t, "")
	client := f.certClient(t)
	rec := record(client)

	t.Run("gopay computes the SNs the sandbox reports", func(t *testing.T) {
		if client.AppCertSN != f.app.AppCertSN {
			t.Errorf("app_cert_sn: gopay %q, sandbox %q", client.AppCertSN, f.app.AppCertSN)
		}
		if client.AliPayPublicCertSN != f.app.AlipayCertSN {
			t.Errorf("alipay_cert_sn: gopay %q, sandbox %q", client.AliPayPublicCertSN, f.app.AlipayCertSN)
		}
		if client.AliPayRootCertSN != f.app.AlipayRootCertSN {
			t.Errorf("alipay_root_cert_sn: gopay %q, sandbox %q", client.AliPayRootCertSN, f.app.AlipayRootCertSN)
		}
	})

	t.Run("teacher SUCCESS once, then TOKEN_INVALID; gopay's verifier accepts both", func(t *testing.T) {
		auth, _, res := f.teacherSucceeds(t, client)
		ex := rec.last(t)
		if got := res.Header.Get("alipay-sn"); got != f.app.AlipayCertSN {
			t.Errorf("alipay-sn %q, expected the Alipay cert SN %q", got, f.app.AlipayCertSN)
		}
		if !strings.Contains(ex.ReqHeader.Get("Authorization"), ",app_cert_sn="+f.app.AppCertSN+",nonce=") {
			t.Errorf("authorization lacks app_cert_sn: %q", ex.ReqHeader.Get("Authorization"))
		}
		// DEVIATION: gopay never sends alipay-root-cert-sn (it computes AliPayRootCertSN but only
		// puts it into v2-style page/wap pay forms, payment_api.go); node, java and net send the
		// header in certificate mode, php v3 does not. The sandbox treats it as optional.
		if got := ex.ReqHeader.Values("alipay-root-cert-sn"); len(got) != 0 {
			t.Errorf("gopay sent alipay-root-cert-sn %q", got)
		}
		if err := verifyExchange(client, ex); err != nil {
			t.Fatalf("gopay's verifier refuses the sandbox's signed SUCCESS: %v", err)
		}

		_, errRes := expectAPIError(t, client, auth, http.StatusBadRequest, "TOKEN_INVALID")
		if got := errRes.Header.Get("alipay-sn"); got != f.app.AlipayCertSN {
			t.Errorf("alipay-sn on the error %q, expected %q", got, f.app.AlipayCertSN)
		}
		// The sandbox signs errors too; gopay's verifier accepts that signature (gopay itself
		// never checks error answers: typed calls return before verifying on a non-200).
		if err := verifyExchange(client, rec.last(t)); err != nil {
			t.Fatalf("gopay's verifier refuses the sandbox's signed TOKEN_INVALID: %v", err)
		}
	})

	t.Run("gopay's verifier refuses a tampered body and another Alipay cert", func(t *testing.T) {
		auth := f.authorize(t, "teacher")
		mustQuery(t, client, auth)
		ex := rec.last(t)
		if err := verifyExchange(client, ex); err != nil {
			t.Fatalf("control: genuine answer refused: %v", err)
		}
		forged := ex
		forged.GivenBody = bytes.Replace(ex.WireBody, []byte(`"SUCCESS"`), []byte(`"FAILED"`), 1)
		if bytes.Equal(forged.GivenBody, ex.WireBody) {
			t.Fatal("tamper did not change the body")
		}
		if err := verifyExchange(client, forged); !errors.Is(err, gopay.VerifySignatureErr) {
			t.Fatalf("tampered body: expected gopay.VerifySignatureErr, got %v", err)
		}
		wrong := f.certClient(t)
		// The official SDKs' fixture Alipay cert: another key, another SN.
		if err := wrong.SetCert([]byte(f.app.AppCert), []byte(f.app.AlipayRootCert), fixture(t, "alipayCertPublicKey_RSA2.crt")); err != nil {
			t.Fatal(err)
		}
		if wrong.AliPayPublicCertSN == f.app.AlipayCertSN {
			t.Fatal("the fixture cert has the sandbox's SN")
		}
		if err := verifyExchange(wrong, ex); !errors.Is(err, gopay.VerifySignatureErr) {
			t.Fatalf("another Alipay cert: expected gopay.VerifySignatureErr, got %v", err)
		}
	})
}

// DEVIATION: the generic call gopay offers for endpoints without a typed wrapper,
// DoAliPayAPISelfV3 (request.go), decodes the body and returns without verifying anything —
// also in certificate mode, where gopay holds the Alipay cert. With the wrong Alipay cert
// configured, and even with the body forged in transit and alipay-sn rewritten, the caller gets
// err == nil. The official SDKs' generic calls verify (node curl() → response-signature-verify-error
// / response-alipay-sn-verify-error; java GenericExecuteApi → ApiClient.verifyResponse).
func TestCertModeGenericCallDoesNotVerify(t *testing.T) {
	f := newFixtureApp(t, "")

	t.Run("wrong Alipay cert configured: answer still accepted", func(t *testing.T) {
		wrong := f.certClient(t)
		if err := wrong.SetCert([]byte(f.app.AppCert), []byte(f.app.AlipayRootCert), fixture(t, "alipayCertPublicKey_RSA2.crt")); err != nil {
			t.Fatal(err)
		}
		rec := record(wrong)
		_, _, res := f.teacherSucceeds(t, wrong)
		ex := rec.last(t)
		if res.Header.Get("alipay-sn") == wrong.AliPayPublicCertSN {
			t.Fatal("the answer's alipay-sn equals the configured (wrong) cert's SN")
		}
		// The same answer fails gopay's own verifier with this configuration: only the generic
		// call's missing check lets it through.
		if err := verifyExchange(wrong, ex); !errors.Is(err, gopay.VerifySignatureErr) {
			t.Fatalf("expected gopay's verifier to refuse it, got %v", err)
		}
	})

	t.Run("forged body and alipay-sn: accepted", func(t *testing.T) {
		client := f.certClient(t)
		rec := record(client)
		rec.tamper = func(res *http.Response, body []byte) []byte {
			res.Header.Set("alipay-sn", "00000000000000000000000000000000")
			return bytes.Replace(body, []byte(`"SUCCESS"`), []byte(`"FAILED"`), 1)
		}
		auth := f.authorize(t, "teacher")
		ans, res := mustQuery(t, client, auth)
		ex := rec.last(t)
		if !bytes.Contains(ex.WireBody, []byte(`"identity_result":"SUCCESS"`)) {
			t.Fatalf("the sandbox should have sent SUCCESS: %s", ex.WireBody)
		}
		if res.StatusCode != http.StatusOK || ans.IdentityResult != "FAILED" {
			t.Fatalf("expected gopay to hand over the forged FAILED, got HTTP %d %q", res.StatusCode, ans.IdentityResult)
		}
		// gopay's verifier never reads alipay-sn either (sign.go uses one key, whatever the SN):
		// with the genuine body and a foreign alipay-sn it still says yes, where node raises
		// response-alipay-sn-verify-error and java/php/net look the SN up in their cert map.
		snOnly := ex
		snOnly.GivenBody = ex.WireBody
		if err := verifyExchange(client, snOnly); err != nil {
			t.Fatalf("expected gopay's verifier to ignore alipay-sn, got %v", err)
		}
		if err := verifyExchange(client, ex); !errors.Is(err, gopay.VerifySignatureErr) {
			t.Fatalf("the forged body should fail gopay's verifier, got %v", err)
		}
	})
}
