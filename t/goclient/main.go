// wsman-goclient: one WS-Management request through github.com/masterzen/winrm
// (Debian golang-github-masterzen-winrm-dev), used by the integration tests.
//
// The library only knows shell operations, so this program builds the
// envelope with the library's soap package and hands it straight to one of
// its transports: Basic (default), NTLM (-ntlm, go-ntlmssp) or a TLS client
// certificate (-cert/-key, the https/mutual profile).
//
//	wsman-goclient -port 5985 -user bob -pass secret -ntlm -op get
//	wsman-goclient -port 5986 -https -insecure -cert c.pem -key k.pem
//	wsman-goclient -port 5985 -user u -pass p -cmd 'id -un' [-stdin DATA] [-timeout 10]
//
// Prints the response envelope on stdout.  With -cmd it runs the command in
// a WinRS shell through the library's own Client.Run (Client.RunWithInput
// when -stdin is given) and prints one JSON object instead:
// {"stdout": base64, "stderr": base64, "exit": N}.  -timeout sets the
// OperationTimeout (seconds) the library sends; with -cmd the HTTP response
// header timeout is that plus 15 s.
// Exit status: 0 success, 2 usage, 3 transport or HTTP error (message on
// stderr).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"strings"
	"time"

	"github.com/masterzen/simplexml/dom"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

const (
	actionGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
	configURI = "http://schemas.microsoft.com/wbem/wsman/1/config"
	anonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
	identNS   = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
	messageID = "uuid:0A2D7E6B-55C1-4F5B-9B71-3C8E1D2F4A60"
)

func readOrDie(path string) []byte {
	if path == "" {
		return nil
	}
	data, err := ioutil.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(2)
	}
	return data
}

func buildMessage(op, url string) *soap.SoapMessage {
	msg := soap.NewMessage()
	if op == "identify" {
		msg.Header().Build()
		body := msg.NewBody()
		id := dom.CreateElement("Identify")
		ns := dom.Namespace{Prefix: "wsmid", Uri: identNS}
		body.AddChild(id)
		id.DeclareNamespace(ns)
		ns.SetTo(id)
		return msg
	}
	msg.Header().
		To(url).
		ReplyTo(anonymous).
		MaxEnvelopeSize(153600).
		Id(messageID).
		Locale("en-US").
		Timeout("PT60S").
		Action(actionGet).
		ResourceURI(configURI).
		Build()
	msg.NewBody()
	return msg
}

func main() {
	host := flag.String("host", "127.0.0.1", "server host")
	port := flag.Int("port", 5985, "server port")
	user := flag.String("user", "", "user name")
	pass := flag.String("pass", "", "password")
	useNTLM := flag.Bool("ntlm", false, "authenticate with NTLM (go-ntlmssp)")
	useHTTPS := flag.Bool("https", false, "use https")
	insecure := flag.Bool("insecure", false, "skip server certificate checks")
	cert := flag.String("cert", "", "client certificate (PEM); selects certificate auth")
	key := flag.String("key", "", "client key (PEM)")
	op := flag.String("op", "get", "get (config Get) or identify")
	command := flag.String("cmd", "", "run this command in a WinRS shell")
	stdin := flag.String("stdin", "", "with -cmd: data for the command's stdin")
	opTimeout := flag.Int("timeout", 60, "OperationTimeout in seconds")
	flag.Parse()
	if *op != "get" && *op != "identify" {
		fmt.Fprintln(os.Stderr, "-op must be get or identify")
		os.Exit(2)
	}

	var headerTimeout time.Duration
	if *command != "" {
		headerTimeout = time.Duration(*opTimeout+15) * time.Second
	}
	ep := winrm.NewEndpoint(*host, *port, *useHTTPS, *insecure, nil,
		readOrDie(*cert), readOrDie(*key), headerTimeout)
	ep.TLSServerName = *host
	// the library always posts to /wsman (Endpoint.url)
	var transport winrm.Transporter
	switch {
	case *cert != "":
		transport = &winrm.ClientAuthRequest{}
	case *useNTLM:
		transport = &winrm.ClientNTLM{}
	default:
		transport = winrm.NewClientWithDial(nil)
	}
	params := winrm.NewParameters(fmt.Sprintf("PT%dS", *opTimeout), "en-US",
		153600)
	params.TransportDecorator = func() winrm.Transporter { return transport }
	client, err := winrm.NewClientWithParameters(ep, *user, *pass, params)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
	}
	if *command != "" {
		os.Exit(runCommand(client, *command, *stdin))
	}
	scheme := "http"
	if *useHTTPS {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s:%d/wsman", scheme, *host, *port)
	out, err := transport.Post(client, buildMessage(*op, url))
	if err != nil {
		fmt.Fprintln(os.Stderr, "post:", err)
		os.Exit(3)
	}
	fmt.Print(out)
}

// runCommand runs one command through the library's shell API and prints
// its output and exit code as JSON.
func runCommand(client *winrm.Client, command, stdin string) int {
	var stdout, stderr bytes.Buffer
	var code int
	var err error
	if stdin != "" {
		code, err = client.RunWithInput(command, &stdout, &stderr,
			strings.NewReader(stdin))
	} else {
		code, err = client.Run(command, &stdout, &stderr)
	}
	out, _ := json.Marshal(struct {
		Stdout []byte `json:"stdout"`
		Stderr []byte `json:"stderr"`
		Exit   int    `json:"exit"`
	}{stdout.Bytes(), stderr.Bytes(), code})
	fmt.Println(string(out))
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 3
	}
	return 0
}
