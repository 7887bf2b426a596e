// Builds one request with Intel's @device-management-toolkit/wsman-messages
// (the CIM classes AMT tools use) and sends it with node's own http and
// Basic authentication (t/test_node_clients.py).
//
//   node wsman_messages_client.js < config.json
//
// config: {port, path, user, password, cls (a CIM.Messages member such as
//          "Chassis"), op: "get" | "enumerate" | "pull" | "power",
//          selector: {name, value} (get), context (pull), state (power)}
// Prints one JSON line: {request, status, contentType, body}.

'use strict';

const http = require('http');
const { CIM } = require('@device-management-toolkit/wsman-messages');

function readStdin() {
    return new Promise((resolve, reject) => {
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (chunk) => { data += chunk; });
        process.stdin.on('end', () => resolve(data));
        process.stdin.on('error', reject);
    });
}

function build(cfg) {
    const cim = new CIM.Messages();
    const cls = cim[cfg.cls];

    if (!cls) {
        throw new Error('wsman-messages has no CIM class ' + cfg.cls);
    }

    switch (cfg.op) {
    case 'get':
        return cfg.selector ? cls.Get(cfg.selector) : cls.Get();
    case 'enumerate':
        return cls.Enumerate();
    case 'pull':
        return cls.Pull(cfg.context);
    case 'power':
        return cls.RequestPowerStateChange(cfg.state);
    default:
        throw new Error('unknown op ' + cfg.op);
    }
}

function send(cfg, xml) {
    return new Promise((resolve, reject) => {
        const body = Buffer.from(xml, 'utf8');
        const auth = Buffer.from(cfg.user + ':' + cfg.password, 'utf8')
            .toString('base64');
        const req = http.request({
            host: '127.0.0.1',
            port: cfg.port,
            path: cfg.path || '/wsman',
            method: 'POST',
            agent: false,
            timeout: cfg.timeout || 30000,
            headers: {
                'Content-Type': 'application/soap+xml;charset=UTF-8',
                'Content-Length': body.length,
                'Authorization': 'Basic ' + auth,
            },
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({
                request: xml,
                status: res.statusCode,
                contentType: res.headers['content-type'] || '',
                body: Buffer.concat(chunks).toString('utf8'),
            }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end(body);
    });
}

readStdin()
    .then((text) => { const cfg = JSON.parse(text); return send(cfg, build(cfg)); })
    .then((res) => {
        process.stdout.write(JSON.stringify(res) + '\n',
                             () => process.exit(0));
    })
    .catch((err) => {
        process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
        process.exit(1);
    });
