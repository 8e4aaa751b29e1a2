// The one-time link's last page: keeps the access token for this tab as a login does, then goes on to the
// bank's account-opening page (remembering the request for the result page) or, with the account already
// open, to 我的借款. The token came in this page's body (a POST answer, not stored), never in a URL.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("handoff").dataset;
  sessionStorage.setItem("user-center.token", data.token);
  sessionStorage.setItem("user-center.token-expires", String(Date.now() + Number(data.expiresIn) * 1000));
  let next = "/#/loans";
  if (data.depositoryUrl) {
    const pending = { service: "PERSONAL_REGISTER", requestNo: data.requestNo, amount: "", commission: "" };
    sessionStorage.setItem("user-center.pending", JSON.stringify(pending));
    const query = new URLSearchParams({
      serviceName: data.serviceName, platformNo: data.platformNo, reqData: data.reqData, signature: data.signature,
    });
    next = data.depositoryUrl + (data.depositoryUrl.includes("?") ? "&" : "?") + query.toString();
  } else {
    sessionStorage.removeItem("user-center.pending");
  }
  document.getElementById("handoff-link").href = next;
  window.location.replace(next);
});
