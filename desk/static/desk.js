// The desk's only script. Applicant text is untrusted: it is only ever set with
// textContent or .value, never as HTML.
(function () {
  "use strict";

  var saved = document.getElementById("saved-replies");
  var reply = document.getElementById("reply");
  if (saved && reply) {
    saved.addEventListener("change", function () {
      if (saved.value) { reply.value = saved.value; reply.focus(); }
    });
  }

  var refresh = document.getElementById("queue-refresh");
  if (refresh) {
    var seconds = parseInt(refresh.getAttribute("data-refresh-seconds"), 10) || 10;
    setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }

  var list = document.getElementById("transcript");
  if (!list) { return; }
  var source = list.getAttribute("data-source");
  var flagAction = list.getAttribute("data-flag-action");
  var csrf = list.getAttribute("data-csrf");
  var safetyNote = list.getAttribute("data-safety-note") || "";

  function when(epoch) {
    if (!epoch) { return ""; }
    return new Date(epoch * 1000).toLocaleString("en-GB", {
      timeZone: "Europe/London", weekday: "short", day: "2-digit", month: "short",
      hour: "2-digit", minute: "2-digit"
    }).replace(",", "");
  }

  function span(className, text) {
    var element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function hidden(name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  }

  // "Flag for training" on an applicant's message, as the page itself renders it.
  function flagForm(entry) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = flagAction;
    form.className = "flag-form";
    form.appendChild(hidden("csrf", csrf));
    form.appendChild(hidden("at", String(entry.at)));
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "flag";
    button.title = "Send this message to the trainers' inbox";
    button.textContent = "Flag for training";
    form.appendChild(button);
    return form;
  }

  function render(entries) {
    var items = entries.map(function (entry) {
      var item = document.createElement("li");
      item.className = entry.who + (entry.delivery === "failed" ? " failed" : "") +
        (entry.safety ? " safety" : "");
      item.appendChild(span("who", entry.who + (entry.author ? " (" + entry.author + ")" : "")));
      item.appendChild(span("at", when(entry.at)));
      item.appendChild(span("text", entry.text));
      if (entry.safety) { item.appendChild(span("safety-note", safetyNote)); }
      if (entry.delivery === "failed") {
        item.appendChild(span("delivery", "not delivered: " + (entry.error || "")));
      } else if (entry.delivery === "pending") {
        item.appendChild(span("delivery", "sending"));
      }
      if (entry.who === "applicant" && entry.at && flagAction && csrf) {
        item.appendChild(flagForm(entry));
      }
      return item;
    });
    list.replaceChildren.apply(list, items);
  }

  // The handoff is gone (the applicant had it erased): say why, in place of the transcript.
  function gone(body) {
    var item = document.createElement("li");
    item.className = "gone";
    item.appendChild(span("text", (body && body.error) || "This handoff no longer exists."));
    list.replaceChildren(item);
  }

  function poll() {
    var stopped = false;
    fetch(source, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) {
        if (answer.status === 401) { window.location.assign("/login"); return null; }
        if (answer.status === 404) {
          stopped = true;
          return answer.json().then(gone, function () { gone(null); }).then(function () {
            return null;
          });
        }
        return answer.ok ? answer.json() : null;
      })
      .then(function (body) { if (body) { render(body.entries); } })
      .catch(function () { /* try again at the next tick */ })
      .then(function () { if (!stopped) { setTimeout(poll, 3000); } });
  }
  setTimeout(poll, 3000);
})();
