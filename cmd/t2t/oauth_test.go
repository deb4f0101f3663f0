package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"t2t/shared/localstack"
	"t2t/shared/portwait"
	"t2t/shared/simulator"
)

// TestAccountURLWithDefaultAzureCredential runs the identity-based storage connection a deployment
// needs (shared-key access disabled) end to end, with no key anywhere: the t2t binary gets an
// --account-url and the AZURE_* environment; DefaultAzureCredential's environment credential asks the
// tenant simulator's Entra token endpoint for a https://storage.azure.com token (client secret,
// AZURE_AUTHORITY_HOST, instance discovery off as for a private cloud); Azurite, started with
// --oauth basic over HTTPS, accepts the bearer token (it checks issuer, audience and lifetime, not the
// signature). A wrong secret ends with exit code 7 and a message naming the credential.
func TestAccountURLWithDefaultAzureCredential(t *testing.T) {
	bin := filepath.Join(binDir(t), "t2t")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	root, _ := localstack.ModuleRoot()
	cfg, err := simulator.LoadConfig(filepath.Join(root, "demo", "tenants.json"))
	if err != nil {
		t.Fatal(err)
	}
	tenant, client := migrationClient(t, cfg, "fabrikam") // before New, which keeps only the secrets' hashes
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	if err := sim.Start(simCtx); err != nil {
		t.Fatal(err)
	}

	certPEM, certFile, keyFile := selfSignedCert(t, dir)
	ports := startOAuthAzurite(t, ctx, dir, certFile, keyFile)
	bundle := filepath.Join(dir, "trust.pem")
	if err := os.WriteFile(bundle, append(sim.CAPEM(), certPEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	url := func(port int) string { return fmt.Sprintf("https://127.0.0.1:%d/%s", port, localstack.DevAccountName) }
	env := func(secret string) []string {
		return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "SSL_CERT_FILE=" + bundle,
			"AZURE_TENANT_ID=" + tenant, "AZURE_CLIENT_ID=" + client.ClientID, "AZURE_CLIENT_SECRET=" + secret,
			"AZURE_AUTHORITY_HOST=" + sim.URLs().GraphURL + "/",
			"AzureWebJobsStorage__queueServiceUri=" + url(ports[1]), "AzureWebJobsStorage__tableServiceUri=" + url(ports[2])}
	}
	t2tBin := func(secret string, args ...string) (int, string, string) {
		cmd := exec.CommandContext(ctx, bin, append([]string{"--account-url", url(ports[0]), "--disable-instance-discovery"}, args...)...)
		cmd.Env = env(secret)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), out.String(), errOut.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errOut.String()
	}

	file := filepath.Join(dir, "oauth.csv")
	_ = os.WriteFile(file, []byte("Source,Destination\nann@contoso.example,ann@fabrikam.example\n"), 0o644)
	if code, out, errOut := t2tBin(client.Secret, "start", file); code != exitOK || !strings.Contains(out, "uploaded mappings/oauth.csv") {
		t.Fatalf("start with the account URL: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := t2tBin(client.Secret, "status", "-o", "json"); code != exitOK || !strings.Contains(out, `"waves": []`) {
		t.Errorf("status with the account URL: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := t2tBin(client.Secret, "rollback", "oauth"); code != exitNotFound {
		t.Errorf("rollback of no wave: exit %d\n%s", code, errOut)
	}
	// The upload is really there: read it back with a bearer token of our own.
	got, err := readBlob(ctx, url(ports[0]), bundle, staticToken{sim, tenant, client, "https://storage.azure.com/.default"})
	if err != nil || got != "Source,Destination\nann@contoso.example,ann@fabrikam.example\n" {
		t.Errorf("mappings/oauth.csv holds %q (%v)", got, err)
	}
	// Azurite does check the token: one for Graph is refused.
	var re *azcore.ResponseError
	if _, err := readBlob(ctx, url(ports[0]), bundle, staticToken{sim, tenant, client, "https://graph.microsoft.com/.default"}); !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Errorf("a Graph token read the blob: %v", err)
	}
	// A wrong secret: no token, a clear error, exit code 7.
	code, _, errOut := t2tBin("wrong-secret", "status")
	if code != exitAuth || !strings.Contains(errOut, "refused DefaultAzureCredential, or it found no usable credential") ||
		!strings.Contains(errOut, "invalid_client") {
		t.Errorf("wrong secret: exit %d\n%s", code, errOut)
	}
}

// migrationClient returns the id of the named tenant and the migration app's client there.
func migrationClient(t *testing.T, cfg *simulator.Config, name string) (string, simulator.ClientConfig) {
	t.Helper()
	for _, tc := range cfg.Tenants {
		if tc.Name == name {
			for _, c := range tc.Clients {
				if c.Secret != "" {
					return tc.ID, c
				}
			}
		}
	}
	t.Fatalf("no tenant %s with a client secret in the tenants file", name)
	return "", simulator.ClientConfig{}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, for Azurite's HTTPS listener.
func selfSignedCert(t *testing.T, dir string) ([]byte, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile := filepath.Join(dir, "azurite-cert.pem"), filepath.Join(dir, "azurite-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM, certFile, keyFile
}

// startOAuthAzurite starts Azurite over HTTPS with OAuth (--oauth basic); it returns the blob, queue
// and table ports.
func startOAuthAzurite(t *testing.T, ctx context.Context, dir, certFile, keyFile string) [3]int {
	t.Helper()
	bin, err := localstack.AzuriteBinary()
	if err != nil {
		t.Fatal(err) // make test installs it
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = localstack.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
		"--oauth", "basic", "--cert", certFile, "--key", keyFile, "--location", filepath.Join(dir, "azurite"),
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(ports[0]), "--queueHost", "127.0.0.1", "--queuePort",
		strconv.Itoa(ports[1]), "--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(ports[2]))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	for _, p := range ports {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := portwait.Wait(wctx, p, exited)
		cancel()
		if err != nil {
			t.Fatalf("azurite (OAuth, HTTPS) on port %d: %v", p, err)
		}
	}
	return ports
}

// readBlob reads mappings/oauth.csv with a bearer token from the simulator.
func readBlob(ctx context.Context, blobURL, bundle string, cred staticToken) (string, error) {
	pool := x509.NewCertPool()
	data, _ := os.ReadFile(bundle)
	pool.AppendCertsFromPEM(data)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	client, err := azblob.NewClient(blobURL, cred, &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc,
		Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		return "", err
	}
	resp, err := client.DownloadStream(ctx, "mappings", "oauth.csv", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// staticToken gets a token for scope from the simulator's token endpoint with the client secret.
type staticToken struct {
	sim    *simulator.Server
	tenant string
	client simulator.ClientConfig
	scope  string
}

func (s staticToken) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	form := "grant_type=client_credentials&client_id=" + s.client.ClientID + "&client_secret=" + s.client.Secret +
		"&scope=" + s.scope
	resp, err := s.sim.HTTPClient().Post(s.sim.URLs().GraphURL+"/"+s.tenant+"/oauth2/v2.0/token",
		"application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		return azcore.AccessToken{}, err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return azcore.AccessToken{}, fmt.Errorf("token: %d %v", resp.StatusCode, err)
	}
	return azcore.AccessToken{Token: body.AccessToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}
