// The owner's storage use against the quota, under the jobs list: «Занято 1,2 ГБ из 10 ГБ».

import * as fmt from "./format.js";
import { t } from "./i18n.js";

export class UsageView {
  constructor(el) {
    this.el = el;
    this.usage = null;
  }

  /** Show a GET /api/usage answer (null hides the line). */
  show(usage) {
    this.usage = usage;
    this.render();
  }

  render() {
    const usage = this.usage;
    this.el.hidden = !usage;
    if (!usage) return;
    const used = fmt.bytes(usage.stored_bytes);
    this.el.textContent = usage.quota_bytes
      ? t("usage.quota", { used, quota: fmt.bytes(usage.quota_bytes) })
      : t("usage.plain", { used });
  }
}
