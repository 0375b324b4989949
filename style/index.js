import './base.css';
import './monitor.css';
import './report.css';
import './workflow.css';
import './results.css';
