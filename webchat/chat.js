// Local web chat over Rasa's socket.io channel. Everything the bot or the user sends is
// inserted with textContent, never as HTML: a message is untrusted input.
(function () {
  "use strict";
  var SESSION_KEY = "careers-assistant-session";
  var messages = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var send = document.getElementById("send");
  var statusLine = document.getElementById("status");
  var typing = null;
  var typingTimer = null;
  var TYPING_TIMEOUT_MS = 20000;
  var socket = io({ path: "/socket.io", transports: ["websocket", "polling"] });

  function setOnline(online, text) {
    input.disabled = !online;
    send.disabled = !online;
    statusLine.textContent = text;
    statusLine.classList.toggle("offline", !online);
  }

  // Links become anchors; the rest stays plain text.
  function appendText(parent, text) {
    var parts = String(text).split(/(https:\/\/[^\s<>"']+)/);
    parts.forEach(function (part, index) {
      if (index % 2 === 1) {
        var trailing = part.match(/[.,;:)]+$/);
        var url = trailing ? part.slice(0, -trailing[0].length) : part;
        var link = document.createElement("a");
        link.href = url;
        link.textContent = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        parent.appendChild(link);
        if (trailing) parent.appendChild(document.createTextNode(trailing[0]));
      } else if (part) {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }

  function addMessage(who, text) {
    var item = document.createElement("li");
    item.className = who;
    appendText(item, text);
    messages.appendChild(item);
    messages.scrollTop = messages.scrollHeight;
    return item;
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    if (on) {
      if (!typing) { typing = addMessage("bot typing", "…"); }
      // While a recruiter has the conversation the assistant is quiet: don't "type" forever.
      typingTimer = setTimeout(function () { showTyping(false); }, TYPING_TIMEOUT_MS);
    } else if (typing) {
      typing.remove();
      typing = null;
    }
  }

  function sendMessage(text, payload) {
    addMessage("user", text);
    showTyping(true);
    // The server knows this socket's session; session_id is kept for Rasa's own clients.
    socket.emit("user_uttered", { message: payload || text, session_id: sessionStorage.getItem(SESSION_KEY) });
  }

  socket.on("connect", function () {
    socket.emit("session_request", { session_id: sessionStorage.getItem(SESSION_KEY) });
  });
  socket.on("session_confirm", function (sessionId) {
    sessionStorage.setItem(SESSION_KEY, sessionId);
    setOnline(true, "Connected");
  });
  // A message the server refused (too long, or too many too fast): say why.
  socket.on("error", function (refusal) {
    showTyping(false);
    addMessage("bot", (refusal && refusal.error) || "That message was not sent.");
  });
  socket.on("disconnect", function () { setOnline(false, "Disconnected: trying to reconnect…"); });
  socket.on("connect_error", function () { setOnline(false, "Can't reach the assistant: is `make run` running?"); });

  socket.on("bot_uttered", function (message) {
    showTyping(false);
    var item = addMessage("bot", message.text || "");
    var replies = message.quick_replies || message.buttons || [];
    if (replies.length) {
      var row = document.createElement("div");
      row.className = "quick-replies";
      replies.forEach(function (reply) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = reply.title;
        button.addEventListener("click", function () { sendMessage(reply.title, reply.payload); });
        row.appendChild(button);
      });
      item.appendChild(row);
    }
    if (message.attachment && message.attachment.type === "image" && message.attachment.payload) {
      var image = document.createElement("img");
      image.src = message.attachment.payload.src;
      image.alt = "";
      item.appendChild(image);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendMessage(text);
  });
})();
