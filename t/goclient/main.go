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
//
// Prints the response envelope on stdout.  Exit status: 0 success,
// 2 usage, 3 transport or HTTP error (message on stderr).
package main

import (
	"flag"
	"fmt"
	"io/ioutil"
	"os"

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
	flag.Parse()
	if *op != "get" && *op != "identify" {
		fmt.Fprintln(os.Stderr, "-op must be get or identify")
		os.Exit(2)
	}

	ep := winrm.NewEndpoint(*host, *port, *useHTTPS, *insecure, nil,
		readOrDie(*cert), readOrDie(*key), 0)
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
	params := winrm.NewParameters("PT60S", "en-US", 153600)
	params.TransportDecorator = func() winrm.Transporter { return transport }
	client, err := winrm.NewClientWithParameters(ep, *user, *pass, params)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
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
