// Types of redis-playground/element: the <redis-playground> terminal element.

/** `<redis-playground namespace="..." commands="..." height="..." readalong compact theme="light">` */
export class RedisPlaygroundElement extends HTMLElement {}

declare global {
  interface HTMLElementTagNameMap {
    "redis-playground": RedisPlaygroundElement;
  }
}
