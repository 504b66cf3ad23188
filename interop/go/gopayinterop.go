// Package gopayinterop drives the community Go SDK gopay (github.com/go-pay/gopay/alipay/v3)
// against a `jobworth sandbox`: the control-plane calls the tests and the load client need,
// and the Jobworth query through gopay's generic signed call.
package gopayinterop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-pay/gopay"
	alipay "github.com/go-pay/gopay/alipay/v3"
)

const (
	QueryPath = "/v3/zhima/customer/jobworth/authentication"
	ServiceID = "2019120400000000000004450100"
)

// AppKeys is a fresh RSA-2048 app key pair in the forms gopay and the sandbox take.
type AppKeys struct {
	Private *rsa.PrivateKey
	// gopay's NewClientV3 takes the private key as bare base64 (what Alipay's key tool prints):
	// it wraps whatever it gets in RSA PRIVATE KEY armor itself (xrsa.FormatAlipayPrivateKey),
	// then parses PKCS#1 or PKCS#8 DER. A PEM text is refused.
	PrivatePKCS1Bare string
	PrivatePKCS8Bare string
	PrivatePKCS8PEM  string
	PublicSPKIPEM    string
}

func GenerateAppKeys() (*AppKeys, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &AppKeys{
		Private:          key,
		PrivatePKCS1Bare: base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(key)),
		PrivatePKCS8Bare: base64.StdEncoding.EncodeToString(pkcs8),
		PrivatePKCS8PEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		PublicSPKIPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
	}, nil
}

// NewAppID is a random 16-digit app id of the usual `2021…` shape.
func NewAppID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := uint64(0)
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return fmt.Sprintf("2021%012d", n%1_000_000_000_000)
}

// RandomTag is a short random hex string for unique conn_keys.
func RandomTag(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// Control talks JSON to the sandbox's control plane (loopback only).
type Control struct {
	Base string
	HTTP *http.Client
}

func NewControl(base string) *Control {
	return &Control{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Post sends a JSON body and decodes the JSON answer; any status other than `want` is an error.
func (c *Control) Post(ctx context.Context, route string, body any, want int, out any) error {
	buf, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+route, bytes.NewReader(buf))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return c.do(req, want, out)
}

func (c *Control) Get(ctx context.Context, route string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+route, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	return c.do(req, http.StatusOK, out)
}

func (c *Control) do(req *http.Request, want int, out any) error {
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s answered HTTP %d, expected %d: %.300s", req.Method, req.URL.Path, res.StatusCode, want, text)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(text, out); err != nil {
		return fmt.Errorf("%s %s: %w: %.300s", req.Method, req.URL.Path, err, text)
	}
	return nil
}

// App is the answer of `POST /sandbox/apps`.
type App struct {
	AppID            string `json:"app_id"`
	AlipayPublicKey  string `json:"alipay_public_key"`
	AlipayCert       string `json:"alipay_cert"`
	AlipayCertSN     string `json:"alipay_cert_sn"`
	AlipayRootCert   string `json:"alipay_root_cert"`
	AlipayRootCertSN string `json:"alipay_root_cert_sn"`
	AppCert          string `json:"app_cert"`
	AppCertSN        string `json:"app_cert_sn"`
}

// RegisterApp registers (201) an app with its SPKI PEM public key and, if given, an AES key.
func (c *Control) RegisterApp(ctx context.Context, appID, publicKeyPEM, encryptKey string) (*App, error) {
	body := map[string]string{"app_id": appID, "public_key": publicKeyPEM}
	if encryptKey != "" {
		body["encrypt_key"] = encryptKey
	}
	return postCreated(ctx, c, "/sandbox/apps", body, func(app *App) bool {
		return app.AppID == appID && app.AlipayCert != "" && app.AlipayRootCert != "" && app.AlipayPublicKey != ""
	})
}

// postCreated posts to a control-plane route that answers 201 and refuses an answer that lacks
// what complete looks for, so a half-filled struct never reaches a test.
func postCreated[T any](ctx context.Context, c *Control, route string, body any, complete func(*T) bool) (*T, error) {
	out := new(T)
	if err := c.Post(ctx, route, body, http.StatusCreated, out); err != nil {
		return nil, err
	}
	if !complete(out) {
		return nil, fmt.Errorf("POST %s: incomplete answer %+v", route, out)
	}
	return out, nil
}

// Authentication is the answer of `POST /sandbox/authentications` (as `…/complete`).
type Authentication struct {
	ConnKey        string `json:"conn_key"`
	OnceToken      string `json:"once_token"`
	IdentityResult string `json:"identity_result"`
	UserID         string `json:"user_id"`
	OpenID         string `json:"open_id"`
}

// Authorize creates an authentication completed by `persona` for identity type 04 (teacher),
// skipping the desk.
func (c *Control) Authorize(ctx context.Context, appID, connKey, persona string) (*Authentication, error) {
	body := map[string]string{
		"app_id":        appID,
		"conn_key":      connKey,
		"service_id":    ServiceID,
		"identity_type": "04",
		"persona":       persona,
	}
	return postCreated(ctx, c, "/sandbox/authentications", body, func(auth *Authentication) bool {
		return auth.ConnKey == connKey && auth.OnceToken != "" && auth.UserID != ""
	})
}

// NewClient is a gopay v3 client aimed at the sandbox.
//
// gopay picks its base URL itself (https://openapi.alipay.com when isProd, Alipay's sandbox host
// otherwise), except when SetProxyHost was called: then every request goes to proxyHost + path
// (alipay/v3/request.go, doGet/doPost/...). That exported setter is all it takes to reach the
// loopback sandbox; no transport rewriting, no change to gopay.
func NewClient(endpoint, appID, privateKeyBase64 string) (*alipay.ClientV3, error) {
	client, err := alipay.NewClientV3(appID, privateKeyBase64, true)
	if err != nil {
		return nil, fmt.Errorf("gopay NewClientV3: %w", err)
	}
	client.SetProxyHost(endpoint)
	client.GetHttpClient().SetTimeout(10 * time.Second)
	return client, nil
}

// NewCertClient is NewClient in certificate mode, with the three PEMs the sandbox issued.
// Note gopay's argument order: app cert, root cert, Alipay cert.
func NewCertClient(endpoint, appID, privateKeyBase64 string, app *App) (*alipay.ClientV3, error) {
	client, err := NewClient(endpoint, appID, privateKeyBase64)
	if err != nil {
		return nil, err
	}
	if err := client.SetCert([]byte(app.AppCert), []byte(app.AlipayRootCert), []byte(app.AlipayCert)); err != nil {
		return nil, fmt.Errorf("gopay SetCert: %w", err)
	}
	return client, nil
}

// Answer holds what DoAliPayAPISelfV3 decodes: gopay unmarshals every body, success or error, into
// the one value it is given, so it carries both the success fields and gopay's ErrResponse.
type Answer struct {
	IdentityResult        string `json:"identity_result"`
	TokenStatus           string `json:"token_status"`
	IdentityResultSkipURL string `json:"identity_result_skip_url"`
	UserID                string `json:"user_id"`
	OpenID                string `json:"open_id"`
	MerchantIdentityID    string `json:"merchant_identity_id"`
	alipay.ErrResponse
}

// QueryParams builds the exact query of a teacher (04) authentication for `auth`.
func QueryParams(auth *Authentication) gopay.BodyMap {
	bm := make(gopay.BodyMap)
	bm.Set("conn_key", auth.ConnKey).
		Set("once_token", auth.OnceToken).
		Set("query_type", "exact").
		Set("identity_type", "04").
		Set("service_id", ServiceID).
		Set("user_id", auth.UserID)
	return bm
}

// Query runs the Jobworth query through gopay's generic signed call (gopay has no typed call for
// this endpoint). On an API error gopay returns err == nil and the status in res; err is set only
// when nothing usable came back (transport, or a body that is not JSON).
func Query(ctx context.Context, client *alipay.ClientV3, bm gopay.BodyMap) (*Answer, *http.Response, error) {
	ans := new(Answer)
	res, err := client.DoAliPayAPISelfV3(ctx, alipay.MethodGet, QueryPath, bm, ans)
	if err != nil {
		return nil, res, err
	}
	return ans, res, nil
}
