// The users' single page: plain JS, hash routes, the API with a bearer token kept in sessionStorage.
"use strict";

const TOKEN_KEY = "user-center.token";
const STATUS_TEXT = { 0: "pending", 1: "succeeded", 2: "failed" };
const DEPOSITORY_TEXT = {
  NONE: "not opened", PENDING: "waiting for the bank", OPENED: "opened", FAILED: "failed, you may try again",
};
const pages = { recharge: 1, withdraw: 1 };
const PAGE_SIZE = 10;

const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = kind || "info";
  box.hidden = !text;
}

// Calls the API; resolves with `result`, rejects with an Error carrying the server's message.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token()) headers.Authorization = "Bearer " + token();
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new Error("The server cannot be reached. Check your connection and try again.");
  }
  let answer = null;
  try { answer = await response.json(); } catch (err) { answer = null; }
  if (response.status === 401 && token()) {
    sessionStorage.removeItem(TOKEN_KEY);
    render();
  }
  if (!response.ok || !answer || answer.code !== 0) {
    const reason = answer && answer.msg ? answer.msg : "unexpected answer (HTTP " + response.status + ")";
    throw new Error(reason);
  }
  return answer.result;
}

// Sends the browser to the bank with the GatewayRequest's four fields URL-encoded.
function goToBank(gateway) {
  const query = new URLSearchParams({
    serviceName: gateway.serviceName, platformNo: gateway.platformNo,
    reqData: gateway.reqData, signature: gateway.signature,
  });
  window.location.assign(gateway.depositoryUrl + "?" + query.toString());
}

function callbackUrl() {
  return window.location.origin + "/#/callback";
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// Wraps a form submit: disables the button, shows the error message when the call fails.
function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    showMessage("");
    try {
      await handler(formData(form));
    } catch (err) {
      showMessage(err.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

function showView(name) {
  document.querySelectorAll(".view").forEach((view) => { view.hidden = view.id !== "view-" + name; });
  $("nav").hidden = !token();
}

async function renderHome() {
  showView("home");
  const profile = await api("GET", "/my/consumers");
  $("p-mobile").textContent = profile.mobile;
  $("p-username").textContent = profile.username || "—";
  $("p-userno").textContent = profile.userNo;
  $("p-status").textContent = DEPOSITORY_TEXT[profile.depositoryStatus] || profile.depositoryStatus;
  const card = profile.bankCard;
  $("p-card").textContent = card ? [card.bankName || card.bankCode, card.cardNumber].join(" ") : "—";
  const opened = profile.depositoryStatus === "OPENED";
  $("open-form").hidden = opened;
  $("recharge-form").hidden = !opened;
  $("withdraw-form").hidden = !opened;
  const balance = await api("GET", "/my/balances");
  $("p-balance").textContent = "¥" + balance.balance + " " + balance.currency;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

async function renderRecordList(kind) {
  const page = await api("GET", "/my/" + kind + "-records?page=" + pages[kind] + "&size=" + PAGE_SIZE);
  const body = $(kind + "-rows");
  body.replaceChildren();
  page.records.forEach((record) => {
    const row = document.createElement("tr");
    cell(row, record.requestNo);
    cell(row, "¥" + record.amount);
    if (kind === "withdraw") cell(row, "¥" + record.commission);
    cell(row, STATUS_TEXT[record.callbackStatus] || String(record.callbackStatus));
    cell(row, new Date(record.createDate).toLocaleString());
    body.appendChild(row);
  });
  if (!page.records.length) {
    const row = document.createElement("tr");
    cell(row, "No records yet.");
    body.appendChild(row);
  }
  const pageCount = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
  $(kind + "-page").textContent = "page " + pages[kind] + " of " + pageCount + " (" + page.total + " in all)";
  document.querySelectorAll("button[data-kind=" + kind + "]").forEach((button) => {
    const target = pages[kind] + Number(button.dataset.step);
    button.disabled = target < 1 || target > pageCount;
  });
}

async function renderRecords() {
  showView("records");
  await Promise.all([renderRecordList("recharge"), renderRecordList("withdraw")]);
}

// The bank's return: wanxin adds code/msg, Huifu pages add RespCode/RespDesc (in the query or the hash).
function renderResult(route, params) {
  showView("result");
  const huifu = route !== "callback";
  const code = params.get(huifu ? "RespCode" : "code");
  const msg = params.get(huifu ? "RespDesc" : "msg");
  const titles = {
    BankUserRegisterCallback: "Bank account registration", NetSaveCallback: "Online recharge", callback: "Result from the bank",
  };
  $("result-title").textContent = titles[route];
  $("result-code-label").textContent = huifu ? "RespCode" : "Code";
  $("result-msg-label").textContent = huifu ? "RespDesc" : "Message";
  $("result-code").textContent = code === null ? "(none)" : code;
  $("result-msg").textContent = msg === null ? "(none)" : msg;
  $("result-note").textContent = "The bank confirms the result to the platform separately; "
    + "your account and records update as soon as that notification arrives.";
}

function parseRoute() {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [route, query] = hash.split("?");
  const params = new URLSearchParams(window.location.search);
  new URLSearchParams(query || "").forEach((value, key) => params.set(key, value));
  return { route: route || "", params };
}

async function render() {
  const { route, params } = parseRoute();
  try {
    if (["callback", "BankUserRegisterCallback", "NetSaveCallback"].includes(route)) {
      renderResult(route, params);
    } else if (!token()) {
      showView("auth");
    } else if (route === "records") {
      await renderRecords();
    } else {
      await renderHome();
    }
  } catch (err) {
    showMessage(err.message, "error");
  }
}

// Logs in, keeps the token for this browser tab, and shows the account.
async function signIn(mobile, password, greeting) {
  const result = await api("POST", "/tokens", { mobile, password });
  sessionStorage.setItem(TOKEN_KEY, result.access_token);
  history.replaceState(null, "", "#/"); // no hashchange: the greeting stays
  showMessage(greeting, "info");
  await render();
}

function setUp() {
  onSubmit($("login-form"), (data) => signIn(data.mobile, data.password, "Welcome back."));
  onSubmit($("register-form"), async (data) => {
    const body = { mobile: data.mobile, password: data.password };
    if (data.username) body.username = data.username;
    await api("POST", "/consumers", body);
    await signIn(data.mobile, data.password, "Registered. Open your depository account to start.");
  });
  onSubmit($("open-form"), async (data) => {
    goToBank(await api("POST", "/my/consumers", { ...data, callbackUrl: callbackUrl() }));
  });
  ["recharge-form", "withdraw-form"].forEach((id) => {
    const form = $(id);
    onSubmit(form, async (data) => {
      goToBank(await api("POST", form.dataset.path, { amount: data.amount.trim(), callbackUrl: callbackUrl() }));
    });
  });
  document.querySelectorAll(".pager button").forEach((button) => {
    button.addEventListener("click", async () => {
      pages[button.dataset.kind] += Number(button.dataset.step);
      try { await renderRecordList(button.dataset.kind); } catch (err) { showMessage(err.message, "error"); }
    });
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    history.replaceState(null, "", "#/");
    showMessage("Logged out.", "info");
    render();
  });
  window.addEventListener("hashchange", () => { showMessage(""); render(); });
  render();
}

document.addEventListener("DOMContentLoaded", setUp);
