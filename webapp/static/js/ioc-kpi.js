// KPI trend chart: per week of reception, how the reports ended up (stacked bars) and the
// on-time rate (line). Clicking a bar opens the list of those reports in the back office.
(function () {
  "use strict";
  var canvas = document.getElementById("kpi-trend");
  var source = document.getElementById("kpi-weeks");
  if (!canvas || !source || !window.Chart) { return; }
  var weeks = JSON.parse(source.textContent);
  var I18N = JSON.parse(document.getElementById("i18n").textContent);
  var series = [
    ["on_time", I18N.onTime, "#38a169"],
    ["late_extension", I18N.lateExtension, "#d69e2e"],
    ["late", I18N.late, "#dd6b20"],
    ["overdue", I18N.overdue, "#c53030"],
    ["open_in_time", I18N.openInTime, "#a0aec0"]
  ];
  var datasets = series.map(function (s) {
    return {
      type: "bar", key: s[0], label: s[1], backgroundColor: s[2], stack: "reports", yAxisID: "y",
      data: weeks.map(function (w) { return w[s[0]]; })
    };
  });
  datasets.push({
    type: "line", key: "rate", label: I18N.rate, borderColor: "#2b6cb0", backgroundColor: "#2b6cb0",
    yAxisID: "rate", spanGaps: true, data: weeks.map(function (w) { return w.rate; })
  });
  var chart = new Chart(canvas, {
    data: { labels: weeks.map(function (w) { return w.label; }), datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      interaction: { mode: "nearest", intersect: true },
      scales: {
        y: { stacked: true, beginAtZero: true, title: { display: true, text: I18N.count } },
        rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } },
        x: { stacked: true }
      },
      onClick: function (event, elements) {
        if (!elements.length) { return; }
        var hit = elements[0];
        var key = datasets[hit.datasetIndex].key;
        var links = weeks[hit.index].links;
        var url = links[key] || links.received;
        if (url) { window.location.href = url; }
      }
    }
  });
  window.iocKpiChart = chart;
})();
