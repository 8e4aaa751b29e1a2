// The users' single page: plain JS, hash routes, the user-center API with a bearer token in sessionStorage.
// Server text is only ever set with textContent (never parsed as HTML).
"use strict";

const TOKEN_KEY = "user-center.token";
const EXPIRES_KEY = "user-center.token-expires";
const PENDING_KEY = "user-center.pending"; // the request the browser took to the bank, read back on return
const PAGE_SIZE = 10;
const POLL_INTERVAL_MS = 1000;
const POLL_LIMIT_MS = 60000;

const RECORD_STATUS = { 0: ["处理中", "pending"], 1: ["成功", "ok"], 2: ["失败", "failed"] };
const DEPOSITORY_STATUS = {
  NONE: ["未开通", "muted"], PENDING: ["开户处理中", "pending"], OPENED: ["已开通", "ok"], FAILED: ["开户失败", "failed"],
};
const OPEN_NOTES = {
  NONE: "填写实名信息后将跳转到存管银行页面设置交易密码。",
  PENDING: "上一次开户尚未完成（可能未在银行页面确认）。可以重新发起开户。",
  FAILED: "上一次开户未成功，请核对信息后重新开通。",
};
// lending's borrow statuses and plan line statuses (docs/lending.md, "State machines").
const LOAN_STATUS = {
  0: ["已确认", "pending"], 10: ["审核中", "pending"], 20: ["审核通过", "pending"], 13: ["放款中", "pending"],
  30: ["还款中", "ok"], 31: ["放款失败", "failed"], 27: ["已拒绝", "failed"], 40: ["已结清", "muted"],
  41: ["已结清", "muted"],
};
const PLAN_STATUS = { 0: ["待还", "pending"], 1: ["已还", "ok"], 2: ["逾期", "failed"] };
const REPAYMENT_WAYS = { FIXED_REPAYMENT: "等额本息", FIXED_CAPITAL: "等额本金" };
const SERVICE_TITLES = { PERSONAL_REGISTER: "开通存管账户", RECHARGE: "充值", WITHDRAW: "提现" };
const RECORD_KINDS = { RECHARGE: "recharge", WITHDRAW: "withdraw" };
// The result routes' parameters come from a link anyone can write: they are shown only as "what the
// bank's page reported", through these fixed words (never their free text), and the outcome shown is
// always the platform's own state of the request.
// The depository bank's result codes (the `code` it adds to callbackUrl), in words for the user.
const BANK_CODES = {
  "00000": "银行页面显示已确认",
  "10000": "等待您在银行页面确认",
  "20001": "银行卡余额不足",
  "20002": "存管账户余额不足（含手续费）",
  "20003": "您在银行页面取消了本次操作",
  "20005": "尚未在银行开通存管账户",
  "20006": "该用户已在银行开户",
};
const HUIFU_ROUTES = { BankUserRegisterCallback: "汇付开户", NetSaveCallback: "汇付充值" };
const HUIFU_SUCCESS = "000";
const CODE_SHAPE = /^[0-9A-Za-z_]{1,12}$/;

const $ = (id) => document.getElementById(id);
// A table's own entry only: a key from a URL such as "constructor" or "__proto__" finds nothing.
const lookup = (table, key) => (Object.hasOwn(table, key) ? table[key] : undefined);
const pages = { recharge: 1, withdraw: 1 };
let renderGeneration = 0; // a newer render stops the polling of an older one
let navUser = "";

// ---------------------------------------------------------------- session

function token() {
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
  if (expires && Date.now() > expires) {
    forgetSession();
    showMessage("error", "登录已过期，请重新登录。");
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function rememberSession(result) {
  sessionStorage.setItem(TOKEN_KEY, result.access_token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + Number(result.expires_in || 0) * 1000));
}

function forgetSession() {
  [TOKEN_KEY, EXPIRES_KEY, PENDING_KEY].forEach((key) => sessionStorage.removeItem(key));
  navUser = "";
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, msg, retryAfter) {
    super(msg || "HTTP " + status);
    this.status = status; // 0: the server could not be reached
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// Calls the API; resolves with the RestResponse `result`, rejects with an ApiError.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const bearer = token();
  if (bearer) headers.Authorization = "Bearer " + bearer;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, null, "");
  }
  let answer = null;
  try { answer = await response.json(); } catch (err) { answer = null; }
  if (response.ok && answer && answer.code === 0) return answer.result;
  if (response.status === 401 && bearer) forgetSession();
  throw new ApiError(response.status, answer && answer.code, answer && answer.msg,
    response.headers.get("Retry-After"));
}

// What went wrong, in words for the user; `action` says which call it was (for 401 and 409).
function explain(err, action) {
  if (!(err instanceof ApiError)) return "页面出错：" + err.message;
  const conflicts = {
    register: "该手机号已注册，请直接登录。",
    open: "存管账户已开通，无需重复开户。",
    recharge: "请先开通存管账户，再充值。",
    withdraw: "请先开通存管账户，再提现。",
  };
  if (err.status === 0) return "无法连接服务器，请检查网络后重试。";
  if (err.status === 401) return action === "login" ? "手机号或密码错误。" : "登录已过期，请重新登录。";
  if (err.status === 429) {
    const wait = Number(err.retryAfter);
    const when = wait >= 60 ? " " + Math.ceil(wait / 60) + " 分钟后" : wait > 0 ? " " + wait + " 秒后" : "稍后";
    return "操作过于频繁，请" + when + "再试。";
  }
  if (err.status === 409) return conflicts[action] || "当前状态不允许此操作。";
  if (err.status === 422) return "余额不足：提现金额加手续费超过了可用余额，未发起提现。";
  if (err.status === 400) return "填写的信息有误，请检查后重试。";
  if (err.status === 404) return "请求的内容不存在。";
  if (err.status >= 500) return "服务暂时不可用，请稍后重试。";
  return "请求未成功（HTTP " + err.status + "）。";
}

function errorDetail(err) {
  if (!(err instanceof ApiError) || err.status === 0) return "";
  const parts = [];
  if (err.message && !err.message.startsWith("HTTP ")) parts.push(err.message);
  parts.push("HTTP " + err.status + (err.code ? " / 错误码 " + err.code : ""));
  return parts.join(" · ");
}

// ---------------------------------------------------------------- page helpers

function showMessage(kind, text, detail) {
  const box = $("message");
  $("message-text").textContent = text || "";
  $("message-detail").textContent = detail || "";
  box.className = "message " + (kind || "info");
  box.hidden = !text;
}

function showError(err, action) {
  showMessage("error", explain(err, action), errorDetail(err));
}

function showView(name, route) {
  document.querySelectorAll(".view").forEach((view) => { view.hidden = view.id !== "view-" + name; });
  const signedIn = Boolean(token());
  $("nav").hidden = !signedIn;
  $("nav-user").textContent = signedIn ? navUser : "";
  document.querySelectorAll("#nav a").forEach((link) => {
    link.classList.toggle("active", link.dataset.route === route);
  });
}

function badge(element, [text, kind]) {
  element.textContent = text;
  element.className = "badge " + kind;
}

function addRow(list, label, value, className) {
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = label;
  dd.textContent = value;
  if (className) dd.className = className;
  list.append(dt, dd);
  return dd;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function pad(number) { return String(number).padStart(2, "0"); }

function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso || "";
  return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " "
    + pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
}

function maskMobile(mobile) {
  return mobile && mobile.length === 11 ? mobile.slice(0, 3) + "****" + mobile.slice(7) : mobile || "";
}

// Adds two yuan strings exactly (in fen, as integers), e.g. amount + commission.
function addYuan(a, b) {
  const fen = (yuan) => {
    const [whole, fraction = ""] = String(yuan || "0").split(".");
    return Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
  };
  const total = fen(a) + fen(b);
  return Math.floor(total / 100) + "." + pad(total % 100);
}

function isZero(yuan) { return !yuan || /^0*(\.0*)?$/.test(yuan); }

// ---------------------------------------------------------------- forms

// Checks the form's fields with the browser's constraints and shows each field's own message.
function validate(form) {
  let first = null;
  form.querySelectorAll("input, select").forEach((field) => {
    field.setCustomValidity("");
    if (field.dataset.amount !== undefined && field.value.trim() && isZero(field.value.trim())) {
      field.setCustomValidity("zero");
    }
    const hint = field.parentElement.querySelector(".field-error");
    if (hint) hint.remove();
    field.classList.toggle("invalid", !field.checkValidity());
    if (!field.checkValidity()) {
      const note = document.createElement("small");
      note.className = "field-error";
      note.textContent = field.dataset.error || "请检查此项";
      field.parentElement.appendChild(note);
      first = first || field;
    }
  });
  if (first) {
    first.focus();
    showMessage("error", "请按提示修改标红的内容。", first.dataset.error || "");
  }
  return !first;
}

// The form's values, trimmed except passwords: a password is sent exactly as typed.
function formData(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  Object.keys(data).forEach((key) => {
    if (form.elements[key].type !== "password") data[key] = data[key].trim();
  });
  return data;
}

// Wraps a form submit: validates, disables the button while the call runs, explains a failure.
function onSubmit(form, action, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showMessage("");
    if (!validate(form)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await handler(formData(form));
    } catch (err) {
      showError(err, action);
      // A stale page (signed out, or the account state changed in another tab): show the current state.
      if ((err.status === 401 && action !== "login") || err.status === 409) render();
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------- the bank

// The signed request's own JSON (reqData is Base64 of UTF-8 JSON): requestNo, amount, commission.
function decodeReqData(reqData) {
  try {
    const bytes = Uint8Array.from(atob(reqData), (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    return {};
  }
}

function bankUrl(gateway) {
  const query = new URLSearchParams({
    serviceName: gateway.serviceName, platformNo: gateway.platformNo,
    reqData: gateway.reqData, signature: gateway.signature,
  });
  return gateway.depositoryUrl + (gateway.depositoryUrl.includes("?") ? "&" : "?") + query.toString();
}

function callbackUrl() {
  return window.location.origin + "/#/callback";
}

// Remembers what goes to the bank, shows it, and sends the browser to the bank's page.
function goToBank(gateway) {
  const request = decodeReqData(gateway.reqData);
  const pending = {
    service: gateway.serviceName, requestNo: request.requestNo || "",
    amount: request.amount || "", commission: request.commission || "",
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  showView("handoff", "");
  $("handoff-title").textContent = "正在前往存管银行" + (SERVICE_TITLES[pending.service] || "") + "…";
  const details = $("handoff-details");
  details.replaceChildren();
  describeRequest(details, pending);
  const url = bankUrl(gateway);
  $("handoff-link").href = url;
  window.location.assign(url);
}

function describeRequest(list, pending) {
  addRow(list, "业务", SERVICE_TITLES[pending.service] || pending.service || "—");
  if (pending.amount) addRow(list, "金额", "¥" + pending.amount, "money");
  if (pending.service === "WITHDRAW") {
    addRow(list, "手续费", isZero(pending.commission) ? "无" : "¥" + pending.commission);
    if (!isZero(pending.commission)) addRow(list, "合计冻结", "¥" + addYuan(pending.amount, pending.commission));
  }
  if (pending.requestNo) addRow(list, "请求号", pending.requestNo, "mono");
}

function readPending() {
  try { return JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null"); } catch (err) { return null; }
}

// ---------------------------------------------------------------- views

async function ensureNavUser() {
  if (navUser || !token()) return;
  const profile = await api("GET", "/my/consumers");
  navUser = profile.username || maskMobile(profile.mobile);
  $("nav-user").textContent = navUser;
}

async function renderHome() {
  showView("home", "");
  const profile = await api("GET", "/my/consumers");
  navUser = profile.username || maskMobile(profile.mobile);
  $("nav-user").textContent = navUser;
  $("p-mobile").textContent = profile.mobile;
  $("p-username").textContent = profile.username || "—";
  $("p-userno").textContent = profile.userNo;
  badge($("p-status"), DEPOSITORY_STATUS[profile.depositoryStatus] || [profile.depositoryStatus, "muted"]);
  const card = profile.bankCard;
  $("p-card").textContent = card ? (card.bankName || card.bankCode) + "  " + card.cardNumber : "未绑定";
  const opened = profile.depositoryStatus === "OPENED";
  $("open-form").hidden = opened;
  $("open-note").textContent = OPEN_NOTES[profile.depositoryStatus] || OPEN_NOTES.NONE;
  $("recharge-form").hidden = !opened;
  $("withdraw-form").hidden = !opened;
  const balance = await api("GET", "/my/balances");
  $("p-balance").textContent = "¥" + balance.balance;
  $("p-balance-note").textContent = opened ? balance.currency + " · 存管账户余额" : "开通存管账户后可充值";
}

async function renderRecordList(kind) {
  const page = await api("GET", "/my/" + kind + "-records?page=" + pages[kind] + "&size=" + PAGE_SIZE);
  const body = $(kind + "-rows");
  body.replaceChildren();
  page.records.forEach((record) => {
    const row = document.createElement("tr");
    row.dataset.requestNo = record.requestNo;
    cell(row, record.requestNo, "mono");
    cell(row, record.amount, "num");
    if (kind === "withdraw") cell(row, record.commission, "num");
    badge(cell(row, "").appendChild(document.createElement("span")),
      RECORD_STATUS[record.callbackStatus] || [String(record.callbackStatus), "muted"]);
    cell(row, formatDate(record.createDate));
    body.appendChild(row);
  });
  if (!page.records.length) {
    const row = document.createElement("tr");
    cell(row, "暂无记录", "empty").colSpan = kind === "withdraw" ? 5 : 4;
    body.appendChild(row);
  }
  const pageCount = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
  $(kind + "-page").textContent = "第 " + pages[kind] + " / " + pageCount + " 页 · 共 " + page.total + " 条";
  document.querySelectorAll("button[data-kind=" + kind + "]").forEach((button) => {
    const target = pages[kind] + Number(button.dataset.step);
    button.disabled = target < 1 || target > pageCount;
  });
}

async function renderRecords() {
  showView("records", "records");
  await Promise.all([renderRecordList("recharge"), renderRecordList("withdraw"), ensureNavUser()]);
}

// One loan: amount, term, status, then its plan as a table.
function loanCard(loan) {
  const card = document.createElement("article");
  card.className = "loan";
  card.dataset.borrowNo = loan.borrowNo;
  const title = document.createElement("h3");
  title.textContent = "借款 ¥" + loan.amount + " · " + loan.term + " 期 ";
  const status = lookup(LOAN_STATUS, loan.status) || [String(loan.status), "muted"];
  badge(title.appendChild(document.createElement("span")), status);
  const details = document.createElement("dl");
  addRow(details, "借款金额", "¥" + loan.amount, "money loan-amount");
  addRow(details, "期数", loan.term + " 个月", "loan-term");
  addRow(details, "年利率", (Number(loan.annualRate) * 100).toFixed(2) + "%");
  addRow(details, "还款方式", lookup(REPAYMENT_WAYS, loan.repaymentWay) || loan.repaymentWay);
  addRow(details, "服务费", "¥" + loan.serviceFee);
  addRow(details, "放款时间", loan.loanTime || "尚未放款");
  addRow(details, "借款编号", loan.borrowNo, "mono");
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const table = wrap.appendChild(document.createElement("table"));
  const head = table.appendChild(document.createElement("thead")).appendChild(document.createElement("tr"));
  ["期数", "应还日期", "本金（元）", "利息（元）", "罚息（元）", "应还（元）", "已还（元）", "状态"].forEach((text, index) => {
    cell(head, text, index >= 2 && index <= 6 ? "num" : "");
  });
  const body = table.appendChild(document.createElement("tbody"));
  loan.plans.forEach((line) => {
    const row = body.appendChild(document.createElement("tr"));
    cell(row, String(line.period));
    cell(row, line.dueDate);
    [line.principal, line.interest, line.penalty, line.total, line.paid].forEach((amount) => cell(row, amount, "num"));
    const shown = lookup(PLAN_STATUS, line.status) || [String(line.status), "muted"];
    badge(cell(row, "").appendChild(document.createElement("span")),
      line.overdueDays > 0 ? [shown[0] + " " + line.overdueDays + " 天", shown[1]] : shown);
  });
  if (!loan.plans.length) cell(body.appendChild(document.createElement("tr")), "放款后生成还款计划", "empty").colSpan = 8;
  card.append(title, details, wrap);
  return card;
}

async function renderLoans() {
  showView("loans", "loans");
  ensureNavUser().catch(() => {});
  const { loans } = await api("GET", "/my/loans");
  $("loans-list").replaceChildren(...loans.map(loanCard));
  $("loans-empty").hidden = loans.length > 0;
}

function setResult(state, title, headline) {
  $("view-result").dataset.state = state; // waiting, ok, failed
  $("result-icon").className = "result-icon " + state;
  $("result-title").textContent = title;
  $("result-headline").textContent = headline;
}

// Starts the result card with the code the bank's page reported, in fixed words (a code of an
// unexpected shape is not shown at all).
function resetResult(codeLabel, code, meaning) {
  const details = $("result-details");
  details.replaceChildren();
  const shown = code === null ? "（无）" : CODE_SHAPE.test(code) ? code : "（格式无效）";
  addRow(details, codeLabel, shown, "mono").id = "result-code";
  addRow(details, "银行页面报告", meaning).id = "result-meaning";
  $("result-progress").hidden = true;
  $("result-note").textContent = "";
}

// Huifu page callbacks: the platform cannot look this request up for the user, so the page says what
// the bank's page reported and that the balance changes only when the bank's notice is credited.
function renderHuifuResult(route, params) {
  showView("result", route);
  const code = params.get("RespCode");
  const reported = code === HUIFU_SUCCESS ? "处理成功" : code === null ? "未带回结果" : "未成功";
  resetResult("返回码 RespCode", code, reported);
  setResult("reported", HUIFU_ROUTES[route] + "：银行页面的报告",
    "银行页面报告：" + reported + "。余额以银行的到账通知为准，通知入账后余额才会变化。");
  $("result-note").textContent = "这只是银行页面跳转时带回的信息，并非平台确认的结果；请在账户页面查看余额。";
}

// The wanxin bank's redirect, then the platform's own state of the request: only that decides the outcome.
async function renderWanxinResult(params, generation) {
  showView("result", "callback");
  const code = params.get("code");
  const pending = readPending();
  const title = pending && SERVICE_TITLES[pending.service] ? SERVICE_TITLES[pending.service] + "结果" : "银行处理结果";
  resetResult("银行返回码", code, code === null ? "未带回返回码" : lookup(BANK_CODES, code) || "银行未完成本次操作");
  if (pending) describeRequest($("result-details"), pending);
  if (!pending || !pending.requestNo) {
    setResult("reported", title, "无法确定是哪一笔业务，请在交易记录中查看结果。");
    $("result-note").textContent = "最终结果以银行通知平台为准。";
    return;
  }
  if (!token()) {
    setResult("reported", title, "登录后可在交易记录中查看这笔业务的最终状态。");
    return;
  }
  setResult("waiting", title, "正在查询平台上这笔业务的状态…");
  ensureNavUser().catch(() => {}); // only the greeting in the bar; the poll reports its own errors
  await pollFinalState(pending, generation);
}

// The platform's view of the request: null while pending, else {ok} once the bank's notification is applied.
async function platformState(pending) {
  if (pending.service === "PERSONAL_REGISTER") {
    const profile = await api("GET", "/my/consumers");
    if (profile.depositoryStatus === "OPENED") return { ok: true };
    return profile.depositoryStatus === "FAILED" ? { ok: false } : null;
  }
  const path = "/my/" + RECORD_KINDS[pending.service] + "-records/" + encodeURIComponent(pending.requestNo);
  const record = await api("GET", path);
  return record.callbackStatus === 0 ? null : { ok: record.callbackStatus === 1 };
}

function finalHeadline(pending, ok) {
  const total = addYuan(pending.amount, pending.commission);
  const lines = {
    PERSONAL_REGISTER: ["存管账户已开通，可以充值了", "存管账户开通未成功，可重新开通"],
    RECHARGE: ["充值成功，¥" + pending.amount + " 已到账", "充值未成功，资金未变动"],
    WITHDRAW: ["提现成功，¥" + pending.amount + " 已转入银行卡", "提现未成功，冻结的 ¥" + total + " 已退回余额"],
  };
  return lines[pending.service][ok ? 0 : 1];
}

async function pollFinalState(pending, generation) {
  const progress = $("result-progress");
  progress.hidden = false;
  const started = Date.now();
  while (generation === renderGeneration) {
    let state = null;
    try {
      state = await platformState(pending);
    } catch (err) {
      if (err.status === 401 || err.status === 404) {
        setResult("reported", $("result-title").textContent, "平台上查不到这笔业务，请在交易记录中查看。");
        progress.hidden = true;
        showError(err);
        return;
      }
      progress.textContent = "查询状态失败：" + explain(err) + " 正在重试…";
    }
    if (generation !== renderGeneration) return;
    if (state) {
      sessionStorage.removeItem(PENDING_KEY);
      progress.hidden = true;
      setResult(state.ok ? "ok" : "failed", $("result-title").textContent, finalHeadline(pending, state.ok));
      const balance = await api("GET", "/my/balances");
      addRow($("result-details"), "当前余额", "¥" + balance.balance, "money").id = "result-balance";
      $("result-note").textContent = "银行已通知平台，本笔业务已完成。";
      return;
    }
    const waited = Math.round((Date.now() - started) / 1000);
    if (Date.now() - started > POLL_LIMIT_MS) {
      progress.textContent = "银行的通知尚未到达平台，请稍后在交易记录中查看结果。";
      return;
    }
    progress.textContent = "正在等待银行通知平台… 已等待 " + waited + " 秒";
    await new Promise((resolve) => { setTimeout(resolve, POLL_INTERVAL_MS); });
  }
}

// ---------------------------------------------------------------- routing

function parseRoute() {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const cut = hash.indexOf("?");
  const route = cut < 0 ? hash : hash.slice(0, cut);
  const params = new URLSearchParams(window.location.search);
  new URLSearchParams(cut < 0 ? "" : hash.slice(cut + 1)).forEach((value, key) => params.set(key, value));
  return { route, params };
}

async function render() {
  renderGeneration += 1;
  const generation = renderGeneration;
  const { route, params } = parseRoute();
  try {
    if (lookup(HUIFU_ROUTES, route)) {
      renderHuifuResult(route, params);
    } else if (route === "callback") {
      await renderWanxinResult(params, generation);
    } else if (!token()) {
      showView("auth", "");
    } else if (route === "records") {
      await renderRecords();
    } else if (route === "loans") {
      await renderLoans();
    } else {
      await renderHome();
    }
  } catch (err) {
    showError(err);
    if (err.status === 401) showView("auth", "");
  }
}

// Logs in, keeps the token for this browser tab, and shows the account.
async function signIn(mobile, password, greeting) {
  rememberSession(await api("POST", "/tokens", { mobile, password }));
  history.replaceState(null, "", "#/"); // no hashchange: the greeting stays
  showMessage("success", greeting);
  await render();
}

function setUp() {
  onSubmit($("login-form"), "login", (data) => signIn(data.mobile, data.password, "登录成功，欢迎回来。"));
  onSubmit($("register-form"), "register", async (data) => {
    const body = { mobile: data.mobile, password: data.password };
    if (data.username) body.username = data.username;
    await api("POST", "/consumers", body);
    await signIn(data.mobile, data.password, "注册成功。请先开通银行存管账户。");
  });
  onSubmit($("open-form"), "open", async (data) => {
    goToBank(await api("POST", "/my/consumers", { ...data, callbackUrl: callbackUrl() }));
  });
  [["recharge-form", "recharge"], ["withdraw-form", "withdraw"]].forEach(([id, action]) => {
    const form = $(id);
    onSubmit(form, action, async (data) => {
      goToBank(await api("POST", form.dataset.path, { amount: data.amount, callbackUrl: callbackUrl() }));
    });
  });
  document.querySelectorAll(".pager button").forEach((button) => {
    button.addEventListener("click", async () => {
      pages[button.dataset.kind] += Number(button.dataset.step);
      try { await renderRecordList(button.dataset.kind); } catch (err) { showError(err); }
    });
  });
  $("logout").addEventListener("click", () => {
    forgetSession();
    history.replaceState(null, "", "#/");
    showMessage("info", "已退出登录。");
    render();
  });
  window.addEventListener("hashchange", () => { showMessage(""); render(); });
  render();
}

document.addEventListener("DOMContentLoaded", setUp);
