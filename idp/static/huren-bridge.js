/* huren-bridge.js — the client of the Huren local bridge（互认本机证书助手）.
 *
 * Served by the provider at /assets/huren-bridge.js; usable by any trading platform page whose
 * origin the bidder's bridge allows (`huren bridge serve --allow-origin https://…`). Plain
 * ES2017, no build step, no dependencies:
 *
 *   HurenBridge.connect({ port: 21800 }).then(function (bridge) {
 *     return bridge.certificates();                 // [{id, subject, issuer, usage, …}]
 *   });
 *   bridge.sign({ certificateId, data: bytesOrBase64, format: "raw" | "cms",
 *                 detached: false, purpose: "投标文件签名" });  // {signature|cms, certificate, algorithm}
 *   bridge.decryptKey({ certificateId, blob, mechanism: "sm2", purpose: "开标解密" }); // {key}
 *
 * Errors: the bridge not reachable → Error named "BridgeNotRunning" whose .help holds Chinese
 * and English instructions; an origin the bridge does not allow → "OriginNotAllowed" (also with
 * .help); the bridge's JSON errors → Error named "BridgeError" with .code, .messageZh,
 * .messageEn, .status (and .retriesLeft for a wrong PIN). Byte values are base64 strings in
 * results; inputs may be Uint8Array, ArrayBuffer or base64 strings.
 *
 * Signing and decrypting wait until the person confirms in the bridge's own window or page
 * (and types the USBKey PIN there): the PIN never passes through the web page.
 */
(function (root) {
  "use strict";

  var DEFAULT_PORT = 21800;

  function zhPreferred() {
    var lang = (root.document && root.document.documentElement &&
      root.document.documentElement.lang) || (root.navigator && root.navigator.language) || "";
    return String(lang).toLowerCase().indexOf("zh") === 0;
  }

  function help(port, kind, url) {
    var zh, en;
    if (kind === "origin") {
      zh = "本机证书助手正在运行，但不允许本网站使用。请用 --allow-origin " + root.location.origin +
        " 重新启动“huren bridge serve”，或联系平台技术支持。";
      en = "The Huren bridge is running but does not allow this site. Restart " +
        "`huren bridge serve` with --allow-origin " + root.location.origin +
        ", or contact the platform's support.";
    } else {
      zh = "未检测到本机的互认证书助手（Huren bridge）。请安装后在命令行运行" +
        "“huren bridge serve”（或双击证书助手图标）启动它，确认其端口为 " + port +
        "（可用 --port 或环境变量 HUREN_BRIDGE_PORT 修改），插入 USB Key 后刷新本页。";
      en = "The Huren bridge is not running on this computer. Install it, start it with " +
        "`huren bridge serve`, check that it listens on port " + port +
        " (--port or HUREN_BRIDGE_PORT), insert your USB key and reload this page.";
    }
    var h = { zh: zh, en: en, messageZh: zh, messageEn: en, port: port,
      text: zhPreferred() ? zh : en };
    if (url) h.url = url;
    h.toString = function () { return h.text; };
    return h;
  }

  function bridgeNotRunning(port, url, cause) {
    var h = help(port, "running", url);
    var err = new Error(h.text);
    err.name = "BridgeNotRunning";
    err.code = "bridge_not_running";
    err.messageZh = h.zh;
    err.messageEn = h.en;
    err.help = h;
    if (cause) err.cause = cause;
    return err;
  }

  function originNotAllowed(port, url) {
    var h = help(port, "origin", url);
    var err = new Error(h.text);
    err.name = "OriginNotAllowed";
    err.code = "origin_not_allowed";
    err.messageZh = h.zh;
    err.messageEn = h.en;
    err.help = h;
    return err;
  }

  function bridgeError(status, doc) {
    doc = doc || {};
    var zh = doc.message_zh || "证书助手返回错误";
    var en = doc.message_en || ("the bridge answered HTTP " + status);
    var err = new Error(zhPreferred() ? zh : en);
    err.name = "BridgeError";
    err.code = doc.error || "http_" + status;
    err.status = status;
    err.messageZh = zh;
    err.messageEn = en;
    if ("retries_left" in doc) err.retriesLeft = doc.retries_left;
    if ("count_low" in doc) err.countLow = doc.count_low;
    return err;
  }

  function toBase64(value, what) {
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value;
    var bytes;
    if (value instanceof Uint8Array) bytes = value;
    else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
    else if (ArrayBuffer.isView(value)) bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else throw new TypeError(what + " must be a Uint8Array, an ArrayBuffer or a base64 string");
    var chunks = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return root.btoa(chunks.join(""));
  }

  function fromBase64(text) {
    var raw = root.atob(String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, ""));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function Client(options) {
    options = options || {};
    this.port = Number(options.port || DEFAULT_PORT);
    this.base = "http://127.0.0.1:" + this.port;
    this.helpUrl = options.helpUrl || "";
  }

  Client.prototype._probe = function (cause) {
    // fetch() fails alike when the bridge is down and when CORS refuses this origin; an opaque
    // no-cors request tells the two apart (it succeeds only if something answers).
    var self = this;
    return root.fetch(self.base + "/v1/status", { mode: "no-cors", cache: "no-store",
      credentials: "omit" }).then(function () {
      throw originNotAllowed(self.port, self.helpUrl);
    }, function () {
      throw bridgeNotRunning(self.port, self.helpUrl, cause);
    });
  };

  Client.prototype._request = function (method, path, body) {
    var self = this;
    var init = {
      method: method,
      mode: "cors",
      cache: "no-store",
      credentials: "omit",
      headers: { "X-Huren-Bridge": "1" }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return root.fetch(self.base + path, init).then(function (response) {
      return response.text().then(function (text) {
        var doc = null;
        try { doc = text ? JSON.parse(text) : {}; } catch (e) { doc = null; }
        if (!response.ok || doc === null) throw bridgeError(response.status, doc);
        return doc;
      });
    }, function (cause) {
      return self._probe(cause);
    });
  };

  /** {bridge: "huren", version, tokens}: no consent needed. */
  Client.prototype.status = function () {
    return this._request("GET", "/v1/status");
  };

  /** The certificates on the bidder's USB keys; the first call asks the person's consent. */
  Client.prototype.certificates = function () {
    return this._request("GET", "/v1/certificates").then(function (doc) {
      return (doc.certificates || []).map(function (c) {
        c.certificateId = c.id;
        return c;
      });
    });
  };

  /** A raw or CMS signature; the person confirms and types the PIN in the bridge. */
  Client.prototype.sign = function (options) {
    options = options || {};
    var body = {
      certificate_id: options.certificateId || options.certificate_id,
      format: options.format || "raw",
      purpose: options.purpose || ""
    };
    if (options.data !== undefined && options.data !== null) body.data = toBase64(options.data, "data");
    if (options.digest !== undefined && options.digest !== null) body.digest = toBase64(options.digest, "digest");
    if (options.detached !== undefined) body.detached = !!options.detached;
    if (options.algorithm) body.algorithm = options.algorithm;
    return this._request("POST", "/v1/sign", body);
  };

  /** Decrypt an envelope's content-encryption key ({key} in base64). */
  Client.prototype.decryptKey = function (options) {
    options = options || {};
    return this._request("POST", "/v1/decrypt-key", {
      certificate_id: options.certificateId || options.certificate_id,
      blob: toBase64(options.blob, "blob"),
      mechanism: options.mechanism,
      purpose: options.purpose || ""
    });
  };

  var HurenBridge = {
    DEFAULT_PORT: DEFAULT_PORT,
    /** Resolves with a client once the bridge answers; rejects BridgeNotRunning otherwise. */
    connect: function (options) {
      var client = new Client(options);
      return client.status().then(function () { return client; });
    },
    client: function (options) { return new Client(options); },
    toBase64: function (value) { return toBase64(value, "value"); },
    fromBase64: fromBase64
  };

  root.HurenBridge = HurenBridge;
})(typeof window !== "undefined" ? window : this);
