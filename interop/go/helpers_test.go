package gopayinterop

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	alipay "github.com/go-pay/gopay/alipay/v3"
)

var listeningRe = regexp.MustCompile(`listening on (http://\S+)`)

// lockedBuffer collects the sandbox's output for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 1<<20 { // keep the first MiB, drop the rest (still drained)
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSandbox runs `$JOBWORTH_BIN sandbox --listen 127.0.0.1:0 --data <t.TempDir()> extra...`,
// waits for its `listening on` line and returns the base URL. The process gets SIGTERM (then
// SIGKILL after 5 s) when the test ends; the data dir is removed after that.
func startSandbox(t *testing.T, extra ...string) string {
	t.Helper()
	bin := os.Getenv("JOBWORTH_BIN")
	if bin == "" {
		t.Fatal("JOBWORTH_BIN is not set: point it at a jobworth binary (cargo build -p jobworth-cli → target/debug/jobworth), e.g. JOBWORTH_BIN=$PWD/../../target/debug/jobworth go test ./...")
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		t.Fatalf("JOBWORTH_BIN=%q: %v", os.Getenv("JOBWORTH_BIN"), err)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Fatalf("JOBWORTH_BIN=%q is not a jobworth binary (%v): build it with cargo build -p jobworth-cli", bin, err)
	}
	dataDir := t.TempDir() // registered first, so removed after the process is stopped
	args := append([]string{"sandbox", "--listen", "127.0.0.1:0", "--data", dataDir}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "RUST_LOG=warn")
	output := new(lockedBuffer)
	cmd.Stderr = output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	found := make(chan string, 1)
	go func() {
		// Keep reading stdout until it closes, so a chatty sandbox never blocks on a full pipe.
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			_, _ = output.Write([]byte(line + "\n"))
			if m := listeningRe.FindStringSubmatch(line); m != nil && !sent {
				found <- strings.TrimRight(m[1], "/")
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case base := <-found:
		return base
	case <-exited:
		t.Fatalf("sandbox exited (%v) before listening; output:\n%s", waitErr, output.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("sandbox did not print \"listening on\" within 30 s; output:\n%s", output.String())
	}
	return ""
}

// fixture reads one of the official SDK fixtures the Rust core keeps (foreign certs and keys).
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "crates", "alipay-v3", "tests", "fixtures", name))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return b
}

// exchange is one request gopay sent and the answer it got, as seen on the wire.
type exchange struct {
	ReqHeader   http.Header
	ReqURI      string
	Status      int
	RespHeader  http.Header // what the sandbox sent
	WireBody    []byte
	GivenHeader http.Header // what gopay was handed (differs only when tampered)
	GivenBody   []byte
}

// recorder is an http.RoundTripper installed with gopay's own setter
// (GetHttpClient().SetTransport): it records every exchange and can tamper with the answer
// before gopay sees it, to show what gopay checks.
type recorder struct {
	next   http.RoundTripper
	tamper func(res *http.Response, body []byte) []byte
	mu     sync.Mutex
	log    []exchange
}

func record(client *alipay.ClientV3) *recorder {
	r := &recorder{next: client.GetHttpClient().HttpClient.Transport}
	client.GetHttpClient().SetTransport(r)
	return r
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	ex := exchange{
		ReqHeader:  req.Header.Clone(),
		ReqURI:     req.URL.RequestURI(),
		Status:     res.StatusCode,
		RespHeader: res.Header.Clone(),
		WireBody:   body,
		GivenBody:  body,
	}
	if r.tamper != nil {
		ex.GivenBody = r.tamper(res, body)
	}
	ex.GivenHeader = res.Header.Clone()
	res.Body = io.NopCloser(bytes.NewReader(ex.GivenBody))
	res.ContentLength = int64(len(ex.GivenBody))
	res.Header.Del("Content-Length")
	r.mu.Lock()
	r.log = append(r.log, ex)
	r.mu.Unlock()
	return res, nil
}

func (r *recorder) last(t *testing.T) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.log) == 0 {
		t.Fatal("no request went through the recorder")
	}
	return r.log[len(r.log)-1]
}

// fixtureApp is one registered app with its keys.
type fixtureApp struct {
	ctl   *Control
	base  string
	id    string
	keys  *AppKeys
	app   *App
	users map[string]persona
}

type persona struct {
	Persona string `json:"persona"`
	UserID  string `json:"user_id"`
	OpenID  string `json:"open_id"`
}

// newFixtureApp starts a sandbox for the test and registers one app on it (with encryptKey, if any).
func newFixtureApp(t *testing.T, encryptKey string) *fixtureApp {
	t.Helper()
	base := startSandbox(t)
	ctx := context.Background()
	keys, err := GenerateAppKeys()
	if err != nil {
		t.Fatal(err)
	}
	ctl := NewControl(base)
	id := NewAppID()
	app, err := ctl.RegisterApp(ctx, id, keys.PublicSPKIPEM, encryptKey)
	if err != nil {
		t.Fatal(err)
	}
	if app.AppCert == "" || app.AppCertSN == "" {
		t.Fatalf("an app registered with a public key gets an app cert: %+v", app)
	}
	var list []persona
	if err := ctl.Get(ctx, "/sandbox/personas", &list); err != nil {
		t.Fatal(err)
	}
	users := map[string]persona{}
	for _, p := range list {
		users[p.Persona] = p
	}
	return &fixtureApp{ctl: ctl, base: base, id: id, keys: keys, app: app, users: users}
}

// authorize makes a fresh authentication completed by `name` and checks it names that persona.
func (f *fixtureApp) authorize(t *testing.T, name string) *Authentication {
	t.Helper()
	auth, err := f.ctl.Authorize(context.Background(), f.id, "gopay-"+RandomTag(6), name)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.users[name].UserID; want == "" || auth.UserID != want {
		t.Fatalf("authentication for %s has user_id %q, personas list says %q", name, auth.UserID, want)
	}
	return auth
}

func (f *fixtureApp) keyClient(t *testing.T) *alipay.ClientV3 {
	t.Helper()
	c, err := NewClient(f.base, f.id, f.keys.PrivatePKCS1Bare)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixtureApp) certClient(t *testing.T) *alipay.ClientV3 {
	t.Helper()
	c, err := NewCertClient(f.base, f.id, f.keys.PrivatePKCS8Bare, f.app)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// teacherSucceeds authorizes the teacher and checks that one query with c answers SUCCESS/FINISH.
func (f *fixtureApp) teacherSucceeds(t *testing.T, c *alipay.ClientV3) (*Authentication, *Answer, *http.Response) {
	t.Helper()
	auth := f.authorize(t, "teacher")
	ans, res := mustQuery(t, c, auth)
	expectSuccess(t, ans, res, auth, "SUCCESS", "FINISH")
	return auth, ans, res
}

// mustQuery queries and fails the test on a gopay error (not on an API error: see the status).
func mustQuery(t *testing.T, c *alipay.ClientV3, auth *Authentication) (*Answer, *http.Response) {
	t.Helper()
	ans, res, err := Query(context.Background(), c, QueryParams(auth))
	if err != nil {
		t.Fatalf("gopay DoAliPayAPISelfV3: %v", err)
	}
	return ans, res
}

func expectSuccess(t *testing.T, ans *Answer, res *http.Response, auth *Authentication, result, tokenStatus string) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d, code %q message %q; expected 200 %s", res.StatusCode, ans.Code, ans.Message, result)
	}
	if ans.IdentityResult != result || ans.TokenStatus != tokenStatus {
		t.Fatalf("identity_result %q token_status %q, expected %s/%s", ans.IdentityResult, ans.TokenStatus, result, tokenStatus)
	}
	if ans.UserID != auth.UserID {
		t.Fatalf("user_id %q, expected the queried %q", ans.UserID, auth.UserID)
	}
	if ans.Code != "" {
		t.Fatalf("a success carries no error code, got %q", ans.Code)
	}
}

// expectAPIError: gopay's generic call hands an API error back as err == nil, the HTTP status in
// the *http.Response and the body decoded into ErrResponse (code, message, links).
func expectAPIError(t *testing.T, c *alipay.ClientV3, auth *Authentication, status int, code string) (*Answer, *http.Response) {
	t.Helper()
	ans, res, err := Query(context.Background(), c, QueryParams(auth))
	if err != nil {
		t.Fatalf("gopay returned an error value instead of the API error %s: %v", code, err)
	}
	if res.StatusCode != status || ans.Code != code {
		t.Fatalf("HTTP %d code %q (%s), expected %d %s", res.StatusCode, ans.Code, ans.Message, status, code)
	}
	if strings.TrimSpace(ans.Message) == "" {
		t.Fatalf("%s without a message", code)
	}
	if ans.IdentityResult != "" {
		t.Fatalf("an error carries no identity_result, got %q", ans.IdentityResult)
	}
	return ans, res
}
