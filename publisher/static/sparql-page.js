/* The /sparql query page: YASGUI (vendor/yasgui/, installed by `make assets`) on this server's endpoint,
   with the project's prefixes and the saved queries as examples.

   Progressive enhancement: the page works as a plain form without JavaScript; this script only takes over
   when YASGUI has loaded. Nothing here, nor in YASGUI as configured here, requests another host: the
   completers that ask Linked Open Vocabularies (classes, properties) are switched off, and prefixes come
   from the page, never from prefix.cc. */
(function () {
  "use strict";

  var configElement = document.getElementById("sparql-editor-config");
  var editorElement = document.getElementById("sparql-editor");
  var yasguiElement = document.getElementById("yasgui");
  if (!configElement || !editorElement || !yasguiElement || typeof window.Yasgui !== "function") {
    return; // YASGUI is missing: the plain form stays
  }
  var config = JSON.parse(configElement.textContent);
  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;
  // YASGUI needs an absolute endpoint; the page names it relative to wherever it is served.
  var endpoint = new URL(config.endpoint, document.baseURI).href;

  // Prefix completion from our prefixes first, then YASQE's bundled list (never fetched): ours win, so
  // cmp: is this graph's ontology, not the unrelated cmp: of the bundled list.
  function prefixCompletions() {
    var lines = [];
    var seen = {};
    Object.keys(config.prefixes).forEach(function (name) {
      seen[name] = true;
      lines.push(name + ": <" + config.prefixes[name] + ">");
    });
    return Yasqe.Autocompleters.prefixes.get({ config: { prefixCcApi: null } }).then(function (bundled) {
      bundled.forEach(function (line) {
        var name = line.slice(0, line.indexOf(":"));
        if (!seen[name]) {
          lines.push(line);
        }
      });
      return lines;
    });
  }
  Yasqe.forkAutocompleter("prefixes", { name: "cmpkgPrefixes", persistenceId: null, get: prefixCompletions }, false);
  // Only completers that stay on this page: the "class" and "property" ones query lov.linkeddata.es.
  Yasqe.defaults.autocompleters = ["cmpkgPrefixes", "variables"];
  Yasqe.defaults.prefixCcApi = null;

  function ourEndpoint(tabConfig) {
    tabConfig.requestConfig = Object.assign({}, tabConfig.requestConfig, { endpoint: endpoint });
    return tabConfig;
  }

  // The editor is shown before YASGUI draws (CodeMirror cannot measure a hidden element); should YASGUI
  // fail, the plain form comes back.
  function showEditor(shown) {
    editorElement.hidden = !shown;
    document.querySelectorAll(".sparql-fallback").forEach(function (element) {
      element.hidden = shown;
    });
    document.querySelectorAll(".sparql-examples .with-editor").forEach(function (element) {
      element.hidden = !shown;
    });
  }
  showEditor(true);
  var yasgui;
  try {
    yasgui = new Yasgui(yasguiElement, {
      autofocus: false,
      persistenceId: "cmpkg-sparql",
      requestConfig: { endpoint: endpoint, method: "POST" },
      copyEndpointOnNewTab: false,
      // A shared link (#query=...) may carry a query, but the endpoint stays this server's.
      populateFromUrl: ourEndpoint,
      endpointCatalogueOptions: {
        getData: function () {
          return [{ endpoint: endpoint }];
        },
      },
      corsProxy: undefined,
      yasqe: { value: config.query, collapsePrefixesOnLoad: true, editorHeight: "18rem" },
    });
  } catch (error) {
    showEditor(false);
    throw error;
  }

  // Tabs kept from an earlier visit query this server, wherever it was then (another port, another name).
  yasgui.persistentConfig.getTabs().forEach(function (id) {
    var tab = yasgui.getTab(id);
    if (tab && tab.getEndpoint() !== endpoint) {
      tab.setEndpoint(endpoint);
    }
  });

  // The saved queries open in a tab of their own (or the tab already showing them).
  var examples = {};
  config.examples.forEach(function (example) {
    examples[example.name] = example;
  });
  document.querySelectorAll("button.open-example").forEach(function (button) {
    var example = examples[button.getAttribute("data-example")];
    if (!example) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      yasgui.addTab(
        true,
        { name: example.title, yasqe: { value: example.query }, requestConfig: { endpoint: endpoint } },
        { avoidDuplicateTabs: true }
      );
      editorElement.scrollIntoView({ block: "start" });
    });
  });

  // Results link IRIs under the public base to their pages on this server (as the plain form's table
  // does), whatever host the base names. Links are rewritten as the pointer or focus reaches them, since
  // the results table redraws its rows when paged or sorted.
  function localLink(event) {
    var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (!link) {
      return;
    }
    var href = link.getAttribute("href");
    if (href.indexOf(config.base) === 0) {
      link.setAttribute("href", config.linkRoot + href.slice(config.base.length));
      link.removeAttribute("target");
    }
  }
  ["mouseover", "focusin", "mousedown", "touchstart"].forEach(function (type) {
    yasguiElement.addEventListener(type, localLink, true);
  });
})();
