#!/usr/bin/env bash
# Retakes assets/screenshot.png from the running program: a GBK server with a
# fixed Chinese acknowledgement, a client sending a Chinese and an English line,
# and the server's received row selected. Run from the repository root after
# `cargo build --release`; needs ../shared/tools/screenshot.sh (it installs Xvfb).
set -euo pipefail
data=$(mktemp -d)
mkdir -p "$data/udpdesk"
# Remembered settings, as eframe stores them: the window starts with these forms filled in.
python3 - "$data/udpdesk/app.ron" <<'PY'
import json, sys
settings = ('(servers:[(name:"PLC 模拟",bind_ip:"127.0.0.1",port:"9999",reply:Fixed,fixed:"收到你的消息了",encoding:Gbk,quit_word:"quit"),'
            '(name:"回声服务器",port:"9998",reply:Echo)],'
            'clients:[(name:"传感器 2",host:"127.0.0.1",port:"9999",message:"你好，世界\\nHello, udpdesk!\\\\r\\\\n",per_line:true,encoding:Gbk),'
            '(name:"Client 2",port:"9998",message:"ping")],'
            'relays:[(name:"中继 1",listen:"127.0.0.1:7000",target:"127.0.0.1:9999")],'
            'saved:[(name:"ping",message:"ping",mode:Text,encoding:Utf8),(name:"quit",message:"quit",mode:Text,encoding:Utf8),'
            '(name:"binary",message:"01 02 ff 00",mode:Hex,encoding:Utf8)])')
open(sys.argv[1], "w").write('{"app":' + json.dumps(settings, ensure_ascii=False) + '}')
PY
# Start the first server, show the first client, Send, then select the server's first received row.
printf 'sleep 3\nclick 30 319\nsleep 1\nclick 85 81\nsleep 1\nclick 30 407\nsleep 1.5\nclick 700 165\nsleep 1\nshot screenshot\n' |
  ../shared/tools/screenshot.sh -o "$data/shots" -t udpdesk -- env XDG_DATA_HOME="$data" target/release/udpdesk
cp "$data/shots/screenshot.png" assets/screenshot.png
echo "assets/screenshot.png updated"
