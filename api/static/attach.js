// Drag and drop onto an item's Attachments section (attachments/templates/_attachments.html).
// The page works without this file: its form has a plain file field. With it, a file dropped anywhere
// on the section is put into that field and the form is sent, so the server checks and answers it
// exactly as if it had been chosen with the field (a refusal is shown on the page as usual).
(function () {
  "use strict";

  function enable(form) {
    var zone = form.closest(".attachments") || form;
    var input = form.querySelector("input[type=file]");
    var status = form.querySelector(".drop-status");
    if (!input || !status) {
      return;
    }
    zone.classList.add("droppable");
    status.textContent = "Or drop a file anywhere on this section.";
    var depth = 0;  // dragenter/dragleave fire for every child element: count them

    zone.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();  // without it the browser opens the file instead of dropping it here
      event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) {
        zone.classList.remove("dragging");
      }
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || files.length === 0) {
        return;
      }
      if (files.length > 1) {
        status.textContent = "Drop one file at a time: " + files.length + " were dropped, none was attached.";
        return;
      }
      input.files = files;
      status.textContent = "Attaching " + files[0].name + "…";
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
  }

  document.querySelectorAll("form.attach-form").forEach(enable);
})();
