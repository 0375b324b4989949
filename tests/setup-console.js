// @jupyterlab/services logs every websocket start and kernel status with
// console.debug; keep test output readable.
console.debug = () => undefined;
