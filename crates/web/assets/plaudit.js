// Plaudit's only script: small progressive enhancements. Every page works
// without it: forms post to the server and come back. With it, reactions,
// comments and add-ons go through the JSON API and update the post in
// place, and the give-recognition form gets a people picker, a live
// character count and errors beside their field without a reload.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") || "" : "";
  }

  function capitalise(s) {
    s = String(s || "");
    return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Polite announcements for screen readers.
  var live = null;
  function announce(text) {
    if (!live) {
      live = el("div", "visually-hidden");
      live.setAttribute("aria-live", "polite");
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  }

  /** `🏆 20 points` in the organisation's currency. */
  function amount(n) {
    var m = document.querySelector('meta[name="plaudit-currency"]');
    var emoji = m ? m.getAttribute("content") : "";
    var one = m ? m.getAttribute("data-singular") : "point";
    var many = m ? m.getAttribute("data-plural") : "points";
    return (emoji ? emoji + " " : "") + n + " " + (n === 1 ? one : many);
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  /**
   * Calls the JSON API with the session's CSRF token. Resolves with the
   * parsed body; rejects with an Error carrying `problem` (the
   * problem+json body) when the server refused, or without it when the
   * network failed.
   */
  function api(method, url, body, headers) {
    var h = { Accept: "application/json", "X-CSRF-Token": meta("csrf-token") };
    if (body !== undefined) h["Content-Type"] = "application/json";
    if (headers) {
      Object.keys(headers).forEach(function (k) {
        h[k] = headers[k];
      });
    }
    return fetch(url, {
      method: method,
      headers: h,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        if (!resp.ok) {
          var err = new Error((data && data.detail) || "Something went wrong. Please try again.");
          err.problem = data || { detail: "Something went wrong. Please try again." };
          err.status = resp.status;
          throw err;
        }
        return data;
      });
    });
  }

  function refreshBalance() {
    var shown = document.querySelectorAll('[data-testid="allowance-remaining"]');
    if (!shown.length) return;
    api("GET", "/api/v1/me/balance")
      .then(function (b) {
        shown.forEach(function (s) {
          s.textContent = String(b.allowance.remaining);
        });
      })
      .catch(function () {
        /* the next page load shows it */
      });
  }

  // ------------------------------------------------------------ posts

  function setInlineError(form, message) {
    var p = form.querySelector(".inline-error");
    if (p) p.textContent = message ? capitalise(message) : "";
    var input = form.querySelector("input:not([type=hidden]), textarea");
    if (input) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  function busy(form, on) {
    form.querySelectorAll("button").forEach(function (b) {
      b.disabled = on;
    });
    if (on) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
  }

  function updateReactions(form, r) {
    var counts = {};
    (r.reactions || []).forEach(function (x) {
      counts[x.emoji] = x.count;
    });
    var mine = r.my_reactions || [];
    form.querySelectorAll("button[data-emoji]").forEach(function (b) {
      var emoji = b.getAttribute("data-emoji");
      var n = counts[emoji] || 0;
      var c = b.querySelector(".reaction-count");
      if (c) c.textContent = n > 0 ? String(n) : "";
      b.setAttribute("aria-pressed", mine.indexOf(emoji) >= 0 ? "true" : "false");
    });
  }

  function updateAddons(post, r) {
    var n = Number(post.getAttribute("data-recipients")) || 1;
    var points = post.querySelector(".post-points");
    if (!points) {
      points = el("p", "post-points");
      points.setAttribute("data-testid", "post-points");
      var message = post.querySelector(".post-message");
      post.insertBefore(points, post.querySelector(".post-values") || message);
    }
    var note = points.querySelector(".addon-note");
    if (!note) {
      note = el("span", "addon-note");
      points.appendChild(note);
    }
    note.textContent = r.addon_points > 0 ? " + " + amount(r.addon_points) + (n > 1 ? " each" : "") + " from others" : "";
  }

  function addComment(post, form, c) {
    var details = post.querySelector("details.comments");
    var list = details.querySelector(".comment-list");
    var li = el("li", "comment");
    var head = el("p", "comment-head");
    var me = document.querySelector('[data-testid="current-member"]');
    var who = el("a", "person", me ? me.textContent : "You");
    who.href = me ? me.getAttribute("href") : "#";
    who.setAttribute("dir", "auto");
    head.appendChild(who);
    head.appendChild(document.createTextNode(" · "));
    var t = el("time", null, "just now");
    t.setAttribute("datetime", c.created_at || "");
    head.appendChild(t);
    var body = el("p", "comment-body", c.body);
    body.setAttribute("dir", "auto");
    li.appendChild(head);
    li.appendChild(body);
    list.appendChild(li);
    var count = details.querySelector(".comment-count");
    var n = (Number(count.textContent) || 0) + 1;
    count.textContent = String(n);
    details.querySelector(".comment-word").textContent = n === 1 ? "comment" : "comments";
    details.open = true;
  }

  function postAction(form, kind, submitter) {
    var post = form.closest("[data-post]");
    var id = post.getAttribute("data-post");
    var base = "/api/v1/recognitions/" + encodeURIComponent(id);
    var req;
    if (kind === "reaction") {
      var emoji = submitter && submitter.value;
      if (!emoji) return;
      req = api("POST", base + "/reactions", { emoji: emoji }).then(function (r) {
        updateReactions(form, r);
        var pressed = (r.my_reactions || []).indexOf(emoji) >= 0;
        announce(pressed ? "You reacted with " + emoji + "." : "Your " + emoji + " reaction was removed.");
      });
    } else if (kind === "comment") {
      var textarea = form.querySelector("textarea");
      req = api("POST", base + "/comments", { body: textarea.value }).then(function (c) {
        addComment(post, form, c);
        textarea.value = "";
        announce("Your comment is posted.");
        textarea.focus();
      });
    } else if (kind === "addon") {
      var input = form.querySelector('input[name="points"]');
      var raw = input.value.trim();
      var points = Number(raw);
      if (!raw || !Number.isInteger(points)) {
        setInlineError(form, "Enter a whole number of points, such as 5");
        input.focus();
        return;
      }
      req = api("POST", base + "/addons", { points: points }, { "Idempotency-Key": randomKey() }).then(function (r) {
        updateAddons(post, r);
        refreshBalance();
        announce("You added " + amount(points) + " to each recipient.");
      });
    } else {
      return;
    }
    setInlineError(form, "");
    busy(form, true);
    req
      .then(function () {
        busy(form, false);
        if (submitter && document.activeElement !== submitter && kind !== "comment") submitter.focus();
      })
      .catch(function (err) {
        busy(form, false);
        if (!err.problem) {
          // The network failed: send the form the plain way.
          form.submit();
          return;
        }
        setInlineError(form, err.problem.detail || err.message);
        if (kind === "reaction") announce(capitalise(err.problem.detail || err.message));
      });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    var confirmText = form.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) {
      e.preventDefault();
      return;
    }
    var kind = form.getAttribute("data-api");
    if (!kind || !window.fetch) return;
    e.preventDefault();
    postAction(form, kind, e.submitter || document.activeElement);
  });

  // Keep "+N from me too" in step with the number typed.
  document.addEventListener("input", function (e) {
    var input = e.target;
    if (!(input instanceof HTMLInputElement)) return;
    var form = input.form;
    if (!form || form.getAttribute("data-api") !== "addon") return;
    var n = form.querySelector(".addon-n");
    if (n) n.textContent = input.value || "…";
  });

  // ------------------------------------------------------------ the give form

  var FIELD_OF = { recipients: "recipients", points: "points", split_total: "points", values: "values", message: "message" };
  var LABEL_OF = { recipients: "Recipients", points: "Points", values: "Company values", message: "Message" };

  function enhanceGiveForm(form) {
    var me = meta("plaudit-member");
    var field = form.querySelector("[data-recipient-picker]");
    var original = form.querySelector("#recipients");
    var label = field.querySelector('label[for="recipients"]');
    var hint = field.querySelector("#recipients-hint");
    var chosen = [];

    // The picker: chosen people as chips, a search box (a combobox) and its suggestions.
    var chips = el("ul", "chips picker-chips");
    chips.setAttribute("aria-label", "Chosen recipients");
    var wrap = el("div", "picker");
    var search = el("input", "input");
    search.type = "text";
    search.id = "recipients-search";
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-autocomplete", "list");
    search.setAttribute("aria-expanded", "false");
    search.setAttribute("aria-controls", "recipients-listbox");
    search.setAttribute("autocomplete", "off");
    search.setAttribute("spellcheck", "false");
    search.setAttribute("dir", "auto");
    search.setAttribute("aria-describedby", original.getAttribute("aria-describedby") || "recipients-hint");
    if (original.getAttribute("aria-invalid")) search.setAttribute("aria-invalid", "true");
    var list = el("ul", "picker-options");
    list.id = "recipients-listbox";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching people");
    list.hidden = true;
    var none = el("p", "picker-none muted", "No active member matches.");
    none.hidden = true;
    wrap.appendChild(search);
    wrap.appendChild(list);
    wrap.appendChild(none);
    label.htmlFor = "recipients-search";
    if (hint) hint.textContent = "Search by name or e-mail, then choose with the arrow keys and Enter. Add as many people as you like.";
    original.type = "hidden";
    original.removeAttribute("aria-describedby");
    original.removeAttribute("aria-invalid");
    original.parentNode.insertBefore(chips, original.nextSibling);
    chips.parentNode.insertBefore(wrap, chips.nextSibling);

    original.value
      .split(/[,;\s]+/)
      .filter(Boolean)
      .forEach(function (token) {
        chosen.push({ id: token, name: token });
      });

    var options = [];
    var active = -1;
    var seq = 0;
    var timer = null;

    function sync() {
      original.value = chosen
        .map(function (c) {
          return c.id;
        })
        .join(", ");
      renderChips();
      updateTotal();
    }

    function renderChips() {
      chips.textContent = "";
      chips.hidden = chosen.length === 0;
      chosen.forEach(function (c, i) {
        var li = el("li", "chip chip-person");
        var name = el("span", null, c.name);
        name.setAttribute("dir", "auto");
        var remove = el("button", "chip-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + c.name);
        remove.addEventListener("click", function () {
          chosen.splice(i, 1);
          sync();
          announce("Removed " + c.name + ". " + count());
          search.focus();
        });
        li.appendChild(name);
        li.appendChild(remove);
        chips.appendChild(li);
      });
    }

    function count() {
      var n = chosen.length;
      return n === 1 ? "1 recipient." : n + " recipients.";
    }

    function close() {
      list.hidden = true;
      none.hidden = true;
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      var items = list.querySelectorAll('[role="option"]');
      items.forEach(function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
        li.classList.toggle("active", j === i);
      });
      active = i;
      if (i >= 0 && items[i]) {
        search.setAttribute("aria-activedescendant", items[i].id);
        items[i].scrollIntoView({ block: "nearest" });
      } else {
        search.removeAttribute("aria-activedescendant");
      }
    }

    function choose(i) {
      var m = options[i];
      if (!m) return;
      chosen.push({ id: m.id, name: m.display_name });
      search.value = "";
      close();
      sync();
      announce("Added " + m.display_name + ". " + count());
      search.focus();
    }

    function show(members) {
      options = members.filter(function (m) {
        return (
          m.id !== me &&
          m.may_receive !== false &&
          !chosen.some(function (c) {
            return c.id === m.id || c.id.toLowerCase() === String(m.email).toLowerCase();
          })
        );
      });
      list.textContent = "";
      options.forEach(function (m, i) {
        var li = el("li", "picker-option");
        li.id = "recipients-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = el("span", "picker-name", m.display_name);
        name.setAttribute("dir", "auto");
        li.appendChild(name);
        var detail = [m.title, m.department].filter(Boolean).join(" · ");
        if (detail) {
          var d = el("span", "picker-detail muted", detail);
          d.setAttribute("dir", "auto");
          li.appendChild(d);
        }
        li.addEventListener("mousedown", function (e) {
          e.preventDefault();
        });
        li.addEventListener("click", function () {
          choose(i);
        });
        list.appendChild(li);
      });
      var any = options.length > 0;
      list.hidden = !any;
      none.hidden = any;
      search.setAttribute("aria-expanded", any ? "true" : "false");
      highlight(-1);
      announce(any ? options.length + (options.length === 1 ? " person matches." : " people match.") : "No active member matches.");
    }

    function lookup() {
      var q = search.value.trim();
      if (!q) {
        close();
        return;
      }
      var mine = ++seq;
      api("GET", "/api/v1/members?status=active&limit=8&q=" + encodeURIComponent(q))
        .then(function (page) {
          if (mine === seq && search.value.trim() === q) show(page.items || []);
        })
        .catch(function () {
          if (mine === seq) close();
        });
    }

    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 150);
    });

    search.addEventListener("keydown", function (e) {
      var open = !list.hidden && options.length > 0;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) {
          lookup();
          return;
        }
        highlight(active + 1 >= options.length ? 0 : active + 1);
      } else if (e.key === "ArrowUp") {
        if (!open) return;
        e.preventDefault();
        highlight(active <= 0 ? options.length - 1 : active - 1);
      } else if (e.key === "Enter") {
        if (open && active >= 0) {
          e.preventDefault();
          choose(active);
        } else if (open && options.length === 1) {
          e.preventDefault();
          choose(0);
        }
      } else if (e.key === "Escape") {
        if (open || !none.hidden) {
          e.preventDefault();
          close();
        }
      } else if (e.key === "Backspace" && search.value === "" && chosen.length) {
        var gone = chosen.pop();
        sync();
        announce("Removed " + gone.name + ". " + count());
      }
    });

    search.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });

    // Points: the label follows "split a pot", and the cost is shown as you type.
    var points = form.querySelector("#points");
    var split = form.querySelector("#split");
    var mode = form.querySelector(".points-mode");
    var total = form.querySelector("#points-total");

    function updateTotal() {
      if (mode) mode.textContent = split && split.checked ? "in all, split among the recipients" : "for each recipient";
      if (!total) return;
      var n = chosen.length + (search.value.indexOf("@") > 0 ? 1 : 0);
      var p = Number(points.value);
      if (!points.value || !Number.isInteger(p) || p <= 0 || n === 0) {
        total.textContent = "";
        return;
      }
      if (split && split.checked) {
        var each = Math.floor(p / n);
        total.textContent =
          amount(p) + " from your allowance, " + (p % n === 0 ? amount(each) + " each." : "about " + amount(each) + " each.");
      } else {
        total.textContent = n > 1 ? n + " × " + p + " = " + amount(n * p) + " from your allowance." : amount(p) + " from your allowance.";
      }
    }
    if (points) points.addEventListener("input", updateTotal);
    if (split) split.addEventListener("change", updateTotal);

    sync();

    form.addEventListener("submit", function (e) {
      if (!window.fetch) return;
      e.preventDefault();
      clearErrors(form);
      var recipients = chosen.map(function (c) {
        return c.id;
      });
      search.value
        .split(/[,;\s]+/)
        .filter(Boolean)
        .forEach(function (t) {
          recipients.push(t);
        });
      var raw = points.value.trim();
      var p = raw === "" ? 0 : Number(raw);
      if (!Number.isInteger(p)) {
        showError(form, "points", "Enter a whole number of points, such as 10");
        return;
      }
      var values = Array.prototype.map.call(form.querySelectorAll('input[name="values"]:checked'), function (i) {
        return i.value;
      });
      var isSplit = split && split.checked;
      var body = { recipients: recipients, points: isSplit ? 0 : p, message: form.querySelector("#message").value, values: values };
      if (isSplit) body.split_total = p;
      var key = form.querySelector('input[name="idempotency_key"]');
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      api("POST", "/api/v1/recognitions", body, key && key.value ? { "Idempotency-Key": key.value } : undefined)
        .then(function (r) {
          window.location.assign("/feed?given=" + encodeURIComponent(r.id) + "#post-" + encodeURIComponent(r.id));
        })
        .catch(function (err) {
          button.disabled = false;
          form.removeAttribute("aria-busy");
          if (!err.problem) {
            form.submit();
            return;
          }
          showError(form, FIELD_OF[err.problem.field] || null, capitalise(err.problem.detail || err.message));
        });
    });
  }

  function inputOf(form, field) {
    if (field === "recipients") return form.querySelector("#recipients-search") || form.querySelector("#recipients");
    if (field === "values") return form.querySelector('input[name="values"]');
    return form.querySelector("#" + field);
  }

  function containerOf(form, field) {
    if (field === "values") return form.querySelector("#values");
    return form.querySelector("#" + field + "-field");
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error:not(.inline-error)").forEach(function (p) {
      p.remove();
    });
    form.querySelectorAll(".field-invalid").forEach(function (f) {
      f.classList.remove("field-invalid");
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) {
      i.removeAttribute("aria-invalid");
      var d = (i.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter(function (id) {
          return id && !/-error$/.test(id);
        })
        .join(" ");
      if (d) i.setAttribute("aria-describedby", d);
      else i.removeAttribute("aria-describedby");
    });
    var summary = form.querySelector(".give-summary");
    if (summary) summary.textContent = "";
  }

  function showError(form, field, message) {
    var container = field ? containerOf(form, field) : null;
    var input = field ? inputOf(form, field) : null;
    if (!container) field = null;
    var summary = form.querySelector(".give-summary");
    if (summary) {
      summary.textContent = "";
      var box = el("div", "error-summary");
      box.setAttribute("role", "alert");
      box.setAttribute("tabindex", "-1");
      box.appendChild(el("h2", null, "There is a problem"));
      var p = el("p");
      if (field) {
        var a = el("a", null, LABEL_OF[field] + ": " + message);
        a.href = "#" + (input ? input.id || field : field);
        p.appendChild(a);
      } else {
        p.setAttribute("data-testid", "form-error");
        p.textContent = message;
      }
      box.appendChild(p);
      summary.appendChild(box);
    }
    if (field) {
      container.classList.add("field-invalid");
      var err = el("p", "field-error");
      err.id = field + "-error";
      err.appendChild(el("span", "visually-hidden", "Error: "));
      err.appendChild(document.createTextNode(message));
      var after = container.querySelector(".hint") || container.querySelector("legend") || container.querySelector("label");
      container.insertBefore(err, after ? after.nextSibling : container.firstChild);
      if (input && field !== "values") {
        input.setAttribute("aria-invalid", "true");
        var d = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        d.push(err.id);
        input.setAttribute("aria-describedby", d.join(" "));
      }
      if (field === "values") container.setAttribute("aria-describedby", err.id);
    }
    var focusTarget = field && input ? input : summary && summary.querySelector(".error-summary");
    if (focusTarget) focusTarget.focus();
  }

  // ------------------------------------------------------------ page set-up

  ready(function () {
    // Suggest the browser's time zone in an empty time zone field (sign-up).
    document.querySelectorAll("input[data-fill-timezone]").forEach(function (input) {
      if (input.value) return;
      try {
        var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (tz) input.value = tz;
      } catch (e) {
        /* leave it empty: the server uses UTC */
      }
    });

    // A message's length, counted in characters as the server counts them.
    document.querySelectorAll("textarea[data-max-chars]").forEach(function (area) {
      var max = Number(area.getAttribute("data-max-chars"));
      var out = document.getElementById(area.id + "-count");
      if (!out) return;
      var update = function () {
        var n = Array.from(area.value).length;
        var over = n - max;
        out.textContent = n + " / " + max + " characters" + (over > 0 ? " — " + over + " too many" : "");
        out.classList.toggle("over", over > 0);
      };
      area.addEventListener("input", update);
      update();
    });

    document.querySelectorAll("form[data-give-form]").forEach(function (form) {
      if (window.fetch) enhanceGiveForm(form);
    });

    // The giver's Undo goes when its five minutes are over.
    document.querySelectorAll("form[data-undo-ms]").forEach(function (form) {
      var ms = Number(form.getAttribute("data-undo-ms"));
      if (!(ms > 0)) return;
      window.setTimeout(function () {
        var post = form.closest("[data-post]");
        var hadFocus = form.contains(document.activeElement);
        form.remove();
        if (hadFocus && post) {
          post.setAttribute("tabindex", "-1");
          post.focus();
        }
      }, Math.min(ms, 2147483647));
    });

    // Move focus to a form's error summary, so keyboard and screen reader
    // users land on what went wrong.
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  });
})();
