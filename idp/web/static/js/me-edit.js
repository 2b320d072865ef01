// 修改个人信息: offer only the document types of the chosen 类型 and the countries of the chosen
// 所属大洲. A convenience only: without scripts every option is listed and the server decides.
(function () {
  "use strict";

  function narrow(select, group) {
    if (!select) {
      return;
    }
    var options = select.querySelectorAll("option[data-group]");
    for (var i = 0; i < options.length; i++) {
      var fits = !group || options[i].getAttribute("data-group").split(" ").indexOf(group) >= 0;
      options[i].hidden = !fits;
      if (!fits && options[i].selected) {
        select.value = "";
      }
    }
    var groups = select.querySelectorAll("optgroup[data-group]");
    for (var j = 0; j < groups.length; j++) {
      groups[j].hidden = Boolean(group) && groups[j].getAttribute("data-group") !== group;
    }
  }

  function checkedRegion() {
    var checked = document.querySelector("input[name=region_type]:checked");
    return checked ? checked.value : "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var documentType = document.getElementById("document_type");
    var continent = document.getElementById("continent");
    var country = document.getElementById("country");
    if (documentType && !documentType.disabled) {
      narrow(documentType, checkedRegion());
      var radios = document.querySelectorAll("input[name=region_type]");
      for (var k = 0; k < radios.length; k++) {
        radios[k].addEventListener("change", function () {
          narrow(documentType, checkedRegion());
        });
      }
    }
    if (continent && country) {
      narrow(country, continent.value);
      continent.addEventListener("change", function () {
        narrow(country, continent.value);
      });
    }
  });
})();
