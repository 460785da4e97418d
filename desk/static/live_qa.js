// The Live Q&A board: polls /live-qa.json and draws the groups. Questions are applicants'
// comments, so untrusted: they are only ever set with textContent, never as HTML.
(function () {
  "use strict";

  var board = document.getElementById("live-qa");
  if (!board) { return; }
  var source = board.getAttribute("data-source");
  var media = board.getAttribute("data-media") || "";
  var csrf = board.getAttribute("data-csrf");
  var seconds = parseInt(board.getAttribute("data-poll-seconds"), 10) || 3;
  var shown = "";

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  function form(action, label, className, fields) {
    var made = element("form", "inline live-action");
    made.method = "post";
    made.action = action;
    var names = Object.keys(fields);
    fields.csrf = csrf;
    names.push("csrf");
    names.forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      made.appendChild(input);
    });
    var button = element("button", className, label);
    button.type = "submit";
    made.appendChild(button);
    return made;
  }

  function replies(counts) {
    var names = Object.keys(counts).sort();
    if (!names.length) { return ""; }
    return "Private replies: " + names.map(function (name) {
      return counts[name] + " " + name.replace("_", " ");
    }).join(", ");
  }

  function groupItem(group) {
    var item = element("li", "live-group " + group.state);
    item.setAttribute("data-group-id", String(group.id));
    var head = element("div", "live-head");
    head.appendChild(element("span", "people", group.people + (group.people === 1 ? " person" : " people")));
    head.appendChild(element("span", "questions", group.questions + (group.questions === 1 ? " question" : " questions")));
    head.appendChild(element("span", "title", group.title || "No topic"));
    item.appendChild(head);
    var examples = element("ul", "examples");
    group.examples.forEach(function (text) { examples.appendChild(element("li", "example", text)); });
    item.appendChild(examples);
    var sent = replies(group.replies);
    if (sent) { item.appendChild(element("p", "replies", sent)); }
    var actions = element("div", "live-actions");
    var base = "/live-qa/groups/" + group.id;
    if (group.state !== "answered") { actions.appendChild(form(base + "/state", "Mark answered", "answered-button", {state: "answered"})); }
    if (group.state !== "hidden") { actions.appendChild(form(base + "/state", "Hide", "hide-button", {state: "hidden"})); }
    if (group.state !== "open") { actions.appendChild(form(base + "/state", "Show as open", "open-button", {state: "open"})); }
    if (group.can_send && group.state !== "hidden") {
      actions.appendChild(form(base + "/send", "Send answer privately", "send-button", {}));
    }
    item.appendChild(actions);
    return item;
  }

  function fill(id, groups) {
    var list = document.getElementById(id);
    list.replaceChildren.apply(list, groups.map(groupItem));
    if (!groups.length) { list.appendChild(element("li", "none", "None.")); }
  }

  function broadcasts(data) {
    var line = document.getElementById("broadcasts");
    var links = data.broadcasts.map(function (broadcast) {
      var link = element("a", broadcast.media_id === data.media_id ? "current" : "",
        "Broadcast " + broadcast.media_id + " (" + broadcast.questions + ")");
      link.href = "/live-qa?media=" + encodeURIComponent(broadcast.media_id);
      return link;
    });
    line.replaceChildren.apply(line, links);
  }

  function render(data) {
    broadcasts(data);
    document.getElementById("summary").textContent = data.media_id
      ? data.questions + " questions from " + data.people + " people; " +
        data.abuse_hidden + " hidden as abuse."
      : "No questions yet.";
    var exportLink = document.getElementById("export");
    exportLink.href = "/live-qa.csv?media=" + encodeURIComponent(data.media_id || "");
    var by = {open: [], answered: [], hidden: []};
    data.groups.forEach(function (group) { (by[group.state] || by.open).push(group); });
    fill("open-groups", by.open);
    fill("answered-groups", by.answered);
    fill("hidden-groups", by.hidden);
    document.getElementById("hidden-count").textContent = String(by.hidden.length);
  }

  function poll() {
    var url = source + (media ? "?media=" + encodeURIComponent(media) : "");
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (reply) {
        if (!reply.ok) { throw new Error("HTTP " + reply.status); }
        return reply.text();
      })
      .then(function (text) {
        document.getElementById("board-error").textContent = "";
        if (text !== shown) { shown = text; render(JSON.parse(text)); }
      })
      .catch(function (error) {
        document.getElementById("board-error").textContent = "The board could not be updated (" + error.message + "); trying again.";
      })
      .then(function () { setTimeout(poll, seconds * 1000); });
  }

  poll();
}());
