/* Charts of the leadership pages, drawn with Apache ECharts from the portal's own static files.
   Each chart is a <div data-chart="kind" data-source="id"> whose data the server put in a
   <script type="application/json" id="id"> block (Django's json_script). Status is never shown
   by colour alone: ECharts' aria decals add patterns, and every chart has a table beside it. */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  // Tooltips are drawn on the canvas (renderMode "richText"), not as HTML: ECharts' HTML
  // tooltips carry style="" attributes, which the Content Security Policy refuses, and would
  // read unit names as HTML. A formatter's <br> becomes a plain line break.
  echarts.registerPreprocessor(function (option) {
    [].concat(option.tooltip || []).forEach(function (tip) {
      tip.renderMode = "richText";
      if (typeof tip.formatter === "function" && !tip.formatter.plain) {
        var format = tip.formatter;
        tip.formatter = function () {
          return String(format.apply(this, arguments)).replace(/<br\s*\/?>/g, "\n");
        };
        tip.formatter.plain = true;
      }
    });
  });
  var lang = (document.documentElement.lang || "zh-hans").toLowerCase();
  var locale = lang.indexOf("en") === 0 ? "EN" : "ZH";
  var FONT = '"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif';
  var charts = [];
  // Meeting-room screens: larger type and bars (the page's CSS scales the rest).
  var big = window.matchMedia && window.matchMedia("(min-width: 2200px)").matches;
  var FONT_SIZE = big ? 18 : 12;
  // Status colours come from the server once per page (the template tag status_palette): the
  // chart data carries status codes only.
  var paletteSource = document.getElementById("status-palette");
  var PALETTE = paletteSource ? JSON.parse(paletteSource.textContent) : {};
  function colorOf(code) { return PALETTE[code] || "#6b7280"; }

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) { return "—"; }
    var a = Math.abs(v);
    // Thousands separated with commas in both languages (10,466,625), as on the pages.
    if (a >= 1000) { return Math.round(v).toLocaleString("en-US"); }
    return String(Math.round(v * 100) / 100);
  }
  // A figure with its unit, as core.numbers.with_unit writes it (the unit is already in the
  // page's language): 12.5%, 2.1 per 10,000.
  function withUnit(text, unit) {
    if (!unit || text === "—") { return text; }
    return /^[%‰‱]$/.test(unit) ? text + unit : text + " " + unit;
  }

  function base(extra) {
    return Object.assign({
      animation: false,
      textStyle: { fontFamily: FONT, fontSize: FONT_SIZE },
      aria: { enabled: true, decal: { show: true } },
      tooltip: { trigger: "item", confine: true }
    }, extra);
  }

  var builders = {
    donut: function (d) {
      return base({
        legend: { bottom: 0, type: "scroll" },
        series: [{
          type: "pie", radius: ["42%", "70%"], center: ["50%", "45%"],
          label: { formatter: "{b}\n{c}" },
          data: d.overall.map(function (s) { return { name: s.name, value: s.value, itemStyle: { color: colorOf(s.code) } }; })
        }]
      });
    },
    goals: function (d, el) {
      el.style.height = Math.max(big ? 300 : 180, (big ? 110 : 70) + d.categories.length * (big ? 48 : 30)) + "px";
      return base({
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        legend: { top: 0, type: "scroll" },
        grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: d.categories,
                 axisLabel: { width: 260, overflow: "truncate" } },
        series: d.series.map(function (s) {
          return { name: s.name, type: "bar", stack: "status", data: s.data,
                   itemStyle: { color: colorOf(s.code) }, label: { show: true, formatter: function (p) { return p.value || ""; } } };
        })
      });
    },
    trend: function (d) {
      var marks = [];
      if (d.target !== null && d.target !== undefined) {
        marks.push({ yAxis: d.target, name: d.labels.target,
                     label: { formatter: d.labels.target + " " + fmt(d.target), position: "insideStartTop" },
                     lineStyle: { color: "#111827", type: "solid", width: 1.5 } });
      }
      marks.push({ xAxis: d.deadline, name: d.labels.deadline,
                   label: { formatter: d.labels.deadline + " " + d.deadline },
                   lineStyle: { color: "#9b1c1c", type: "dotted" } });
      return base({
        tooltip: { trigger: "axis", confine: true, valueFormatter: fmt },
        legend: { top: 0 },
        grid: { left: 8, right: 40, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.categories, boundaryGap: false },
        yAxis: { type: "value", name: d.unit, scale: true },
        series: [
          { name: d.labels.values, type: "line", data: d.values, symbol: "circle", symbolSize: 8,
            lineStyle: { width: 3, color: "#1d4ed8" }, itemStyle: { color: "#1d4ed8" },
            markLine: { symbol: "none", data: marks } },
          { name: d.labels.trajectory, type: "line", data: d.trajectory, connectNulls: true,
            symbol: "diamond", symbolSize: 7, lineStyle: { type: "dashed", color: "#6b7280" },
            itemStyle: { color: "#6b7280" } },
          { name: d.labels.forecast, type: "line", data: d.forecast, connectNulls: true,
            symbol: "triangle", symbolSize: 8, lineStyle: { type: "dotted", width: 2, color: "#c2410c" },
            itemStyle: { color: "#c2410c" } }
        ]
      });
    },
    league: function (d, el) {
      el.style.height = (80 + d.names.length * 22) + "px";
      var series = {
        name: d.labels.value, type: "bar",
        data: d.values.map(function (v, i) { return { value: v, itemStyle: { color: colorOf(d.status_codes[i]) }, status: d.statuses[i] }; }),
        label: { show: true, position: "right", formatter: function (p) { return withUnit(fmt(p.value), d.unit) + " · " + d.statuses[p.dataIndex]; } }
      };
      if (d.target !== null && d.target !== undefined) {
        series.markLine = { symbol: "none", data: [{ xAxis: d.target, label: { position: "insideEndTop", formatter: d.labels.target + " " + fmt(d.target) } }],
                            lineStyle: { color: "#111827", type: "dashed", width: 1.5 } };
      }
      return base({
        tooltip: { trigger: "item", confine: true,
                   formatter: function (p) { return p.name + "<br>" + withUnit(fmt(p.value), d.unit) + " · " + d.statuses[p.dataIndex]; } },
        grid: { left: 8, right: 120, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "value", axisLabel: { formatter: "{value}" + (d.unit === "%" ? "%" : "") } },
        yAxis: { type: "category", inverse: true, data: d.names, axisLabel: { width: 140, overflow: "truncate" } },
        series: [series]
      });
    },
    compare: function (d) {
      return base({
        tooltip: { trigger: "item", confine: true,
                   formatter: function (p) { return p.name + "<br>" + d.details[p.dataIndex] + "<br>" + fmt(p.value) + "% · " + d.statuses[p.dataIndex]; } },
        grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.names },
        yAxis: { type: "value", name: d.labels.pct, axisLabel: { formatter: "{value}%" } },
        series: [{
          type: "bar", barMaxWidth: 48,
          data: d.values.map(function (v, i) { return { value: v, itemStyle: { color: colorOf(d.status_codes[i]) } }; }),
          label: { show: true, position: "top", formatter: function (p) { return fmt(p.value) + "%"; } },
          markLine: { symbol: "none", data: [{ yAxis: 100, label: { position: "insideEndTop", formatter: d.labels.target + " 100%" } }],
                      lineStyle: { color: "#111827", type: "dashed" } }
        }]
      });
    }
  };

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var build = builders[el.dataset.chart];
    var source = document.getElementById(el.dataset.source);
    if (!build || !source) { return; }
    var option = build(JSON.parse(source.textContent), el);
    var chart = echarts.init(el, null, { renderer: "canvas", locale: locale });
    chart.on("finished", function () { el.dataset.rendered = "1"; });
    chart.setOption(option);
    charts.push(chart);
  });

  // "Show the rest" buttons: the rows stay visible without JavaScript and in print.
  document.querySelectorAll("button[data-toggle]").forEach(function (button) {
    var target = document.getElementById(button.dataset.toggle);
    if (!target) { return; }
    var more = button.textContent;
    target.hidden = true;
    button.hidden = false;
    button.addEventListener("click", function () {
      target.hidden = !target.hidden;
      button.setAttribute("aria-expanded", String(!target.hidden));
      button.textContent = target.hidden ? more : button.dataset.less;
    });
  });

  function resizeAll() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
