/** meow's JupyterLab plugin: the service connection and live models (`IMeow`), with the UI settings. */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Meow } from '../meow';
import { IMeow, IMeowSettings } from '../tokens';

/** The service connection and live models (`IMeow`), with the UI settings. */
export const corePlugin: JupyterFrontEndPlugin<IMeow> = {
  id: 'jupyterlab-meow:plugin',
  description: 'MEOW: notebooks as recipes, patterns as triggers, jobs as data arrives.',
  autoStart: true,
  provides: IMeow,
  optional: [ISettingRegistry],
  activate: (app: JupyterFrontEnd, registry: ISettingRegistry | null): IMeow => {
    const meow = new Meow(app.serviceManager.serverSettings);
    const apply = (settings: ISettingRegistry.ISettings) => {
      meow.updateSettings(settings.composite as unknown as Partial<IMeowSettings>);
    };
    if (registry) {
      registry
        .load(corePlugin.id)
        .then(settings => {
          apply(settings);
          meow.jobs.setFilter({ status: meow.settings.defaultStatusFilter });
          settings.changed.connect(apply);
        })
        .catch(err => console.warn('meow: cannot load settings', err));
    }
    meow.start();
    return meow;
  }
};
