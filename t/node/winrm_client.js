// Drives the npm package winrm-client (t/test_node_clients.py).
//
//   node winrm_client.js < config.json
//
// config: {host, port, user, password, command,
//          prompts: [{pattern, response}] (interactive mode),
//          timeout (ms, interactive mode)}
// A user written DOMAIN\user makes winrm-client use NTLM, a plain name
// Basic.  Prints one JSON line: {ok: true, output} or {ok: false, error}.

'use strict';

const winrm = require('winrm-client');

function readStdin() {
    return new Promise((resolve, reject) => {
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (chunk) => { data += chunk; });
        process.stdin.on('end', () => resolve(data));
        process.stdin.on('error', reject);
    });
}

async function main() {
    const cfg = JSON.parse(await readStdin());
    let output;

    if (cfg.prompts) {
        const prompts = cfg.prompts.map((p) => ({
            pattern: new RegExp(p.pattern),
            response: p.response,
        }));
        output = await winrm.runInteractiveCommand(
            cfg.command, cfg.host, cfg.user, cfg.password, cfg.port,
            prompts, cfg.timeout || 30000, cfg.httpTimeout || 30000,
            cfg.pollInterval || 200);
    } else {
        output = await winrm.runCommand(cfg.command, cfg.host, cfg.user,
                                        cfg.password, cfg.port);
    }

    return { ok: true, output };
}

// exit once the answer is out: winrm-client leaves an unread response
// (a 401) on a kept-alive socket, which would keep node running until
// nginx's keepalive_timeout
function finish(res) {
    process.stdout.write(JSON.stringify(res) + '\n', () => process.exit(0));
}

main().then(finish, (err) => finish({
    ok: false,
    error: String(err && err.message ? err.message : err),
}));
